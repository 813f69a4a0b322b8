// Why a Temporal address cannot be used, found in about two seconds: the SDK's own connect waits
// for its deadline and then says only "Failed to connect before the deadline". A Temporal frontend
// speaks gRPC, which is HTTP/2 without TLS negotiation here ("prior knowledge", RFC 9113 §3.3).
import * as http2 from 'node:http2';
import * as net from 'node:net';

const PROBE_MS = 2000;

function hostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address.trim());
  return m ? { host: m[1] ?? m[2], port: Number(m[3]) } : undefined;
}

/** A short reason the address is unusable, or undefined when an HTTP/2 server answers there. */
export async function unreachableReason(address: string, timeoutMs = PROBE_MS): Promise<string | undefined> {
  const hp = hostPort(address);
  if (!hp) return `"${address}" is not host:port (e.g. localhost:7233)`;
  const tcp = await new Promise<string | undefined>((resolve) => {
    const s = net.connect({ host: hp.host, port: hp.port });
    const done = (r: string | undefined) => {
      s.destroy();
      resolve(r);
    };
    s.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s (a firewall, or a wrong address)`));
    s.once('connect', () => done(undefined));
    s.once('error', (e: NodeJS.ErrnoException) =>
      done(
        e.code === 'ECONNREFUSED'
          ? 'connection refused: nothing listens there'
          : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
            ? `cannot resolve ${hp.host}`
            : `${e.code ?? ''} ${e.message}`.trim(),
      ),
    );
  });
  if (tcp) return tcp;
  return new Promise((resolve) => {
    const host = hp.host.includes(':') ? `[${hp.host}]` : hp.host;
    const session = http2.connect(`http://${host}:${hp.port}`);
    const done = (r: string | undefined) => {
      session.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        done(
          `it accepts connections but does not answer HTTP/2 within ${timeoutMs / 1000} s, as a Temporal frontend (gRPC) would`,
        ),
      timeoutMs,
    );
    // An HTTP/2 server's first frame is its SETTINGS; an HTTP/1 server answers with text and closes.
    const notGrpc = (why: string) =>
      done(
        `something answers there, but not as a Temporal frontend (gRPC over HTTP/2: ${why}); the frontend listens on 7233, the Web UI on 8233`,
      );
    session.once('remoteSettings', () => {
      clearTimeout(timer);
      done(undefined);
    });
    session.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      notGrpc(e.code ?? e.message);
    });
    session.once('close', () => {
      clearTimeout(timer);
      notGrpc('the connection closed before any HTTP/2 SETTINGS');
    });
  });
}

/** The message with its causes, so a wrapped SDK error keeps the reason (e.g. "Failed to describe workflow: ..."). */
export function messageWithCauses(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const m = e instanceof Error ? e.message : String(e);
    if (m && !parts.some((p) => p.includes(m))) parts.push(m);
  }
  return parts.join(': ');
}
