// Why a Temporal address cannot be used, found in about two seconds: the SDK's own connect waits
// for its deadline and then says only "Failed to connect before the deadline". A Temporal frontend
// speaks gRPC: HTTP/2 without TLS negotiation ("prior knowledge", RFC 9113 §3.3), or over TLS with
// ALPN h2, where the handshake says what is wrong with either side's certificate.
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSConfig } from '@temporalio/client';

const PROBE_MS = 2000;

function hostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address.trim());
  return m ? { host: m[1] ?? m[2], port: Number(m[3]) } : undefined;
}

/** What a TLS handshake error means for the operator; OpenSSL's codes as Node reports them. */
export function tlsFailureReason(code: string, message: string, serverName: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the server's certificate is not for "${serverName}" (${message.replace(/^.*?: /, '')}); set --tls-server-name (TEMPORAL_TLS_SERVER_NAME) to a name it carries`;
  if (
    /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?)$/.test(
      code,
    )
  )
    return `the server's certificate is not signed by a CA this side trusts (${code}); set --tls-ca-path (TEMPORAL_TLS_SERVER_CA_CERT_PATH) to the CA that signed it`;
  if (code === 'CERT_HAS_EXPIRED') return "the server's certificate has expired; its operator must renew it";
  if (/CERTIFICATE_REQUIRED/.test(code) || /certificate required/i.test(message))
    return 'the server requires a client certificate (mTLS); set --tls-cert-path and --tls-key-path (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH)';
  if (/CERTIFICATE_EXPIRED/.test(code)) return 'the server refused the client certificate as expired; get a new one';
  if (/UNKNOWN_CA|BAD_CERTIFICATE|DECRYPT_ERROR|CERTIFICATE_UNKNOWN/.test(code))
    return `the server refused the client certificate (${code}): it was not issued by a CA the server trusts`;
  if (
    /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE/.test(code) ||
    /wrong version number/.test(message)
  )
    return "the server does not speak TLS there; drop --tls and the TLS settings (TEMPORAL_TLS_*, the profile's tls table)";
  return `TLS handshake failed: ${code ? `${code}: ` : ''}${message}`;
}

/** A short reason the address is unusable, or undefined when an HTTP/2 server answers there (over TLS when `tls` is set). */
export async function unreachableReason(
  address: string,
  timeoutMs = PROBE_MS,
  tls?: TLSConfig | boolean,
): Promise<string | undefined> {
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
  return tls ? tlsProbe(hp, timeoutMs, typeof tls === 'object' ? tls : {}) : plainProbe(hp, timeoutMs);
}

const noHttp2 = (timeoutMs: number) =>
  `it accepts connections but does not answer HTTP/2 within ${timeoutMs / 1000} s, as a Temporal frontend (gRPC) would`;

function plainProbe(hp: { host: string; port: number }, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const host = hp.host.includes(':') ? `[${hp.host}]` : hp.host;
    const session = http2.connect(`http://${host}:${hp.port}`);
    const done = (r: string | undefined) => {
      clearTimeout(timer);
      session.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(noHttp2(timeoutMs)), timeoutMs);
    // An HTTP/2 server's first frame is its SETTINGS; an HTTP/1 server answers with text and closes.
    const notGrpc = (why: string) =>
      done(
        `something answers there, but not as a Temporal frontend (gRPC over HTTP/2: ${why}); the frontend listens on 7233, the Web UI on 8233`,
      );
    session.once('remoteSettings', () => done(undefined));
    session.once('error', (e: NodeJS.ErrnoException) => notGrpc(e.code ?? e.message));
    session.once('close', () =>
      notGrpc(
        'the connection closed before any HTTP/2 SETTINGS; a frontend that wants TLS does that: set --tls or the TLS settings',
      ),
    );
  });
}

/** HTTP/2's connection preface and an empty SETTINGS frame (RFC 9113 §3.4): a frontend answers with its SETTINGS. */
const PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

/**
 * The TLS handshake, then the HTTP/2 preface: under TLS 1.3 a server judges the client certificate
 * after the client's side of the handshake is done, so its refusal comes as an alert (Go's servers)
 * or a bare close (others) only once something is sent.
 */
function tlsProbe(hp: { host: string; port: number }, timeoutMs: number, t: TLSConfig): Promise<string | undefined> {
  return new Promise((resolve) => {
    const serverName = t.serverNameOverride ?? hp.host;
    let handshaken = false;
    const s = tlsConnect({
      host: hp.host,
      port: hp.port,
      ALPNProtocols: ['h2'],
      ...(net.isIP(serverName) ? {} : { servername: serverName }),
      ...(t.serverRootCACertificate ? { ca: Buffer.from(t.serverRootCACertificate) } : {}),
      ...(t.clientCertPair ? { cert: Buffer.from(t.clientCertPair.crt), key: Buffer.from(t.clientCertPair.key) } : {}),
    });
    const done = (r: string | undefined) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(noHttp2(timeoutMs)), timeoutMs);
    s.once('secureConnect', () => {
      handshaken = true;
      if (s.alpnProtocol !== 'h2')
        return done('the TLS server there does not offer HTTP/2 (ALPN h2), as a Temporal frontend (gRPC) would');
      s.write(PREFACE);
    });
    // A frame header is 9 bytes; its fourth is the type, 4 for SETTINGS.
    s.once('data', (b: Buffer) =>
      done(b.length >= 9 && b[3] === 4 ? undefined : 'the TLS server there does not speak gRPC'),
    );
    s.once('error', (e: NodeJS.ErrnoException) => done(tlsFailureReason(e.code ?? '', e.message, serverName)));
    s.once('close', () =>
      done(
        handshaken && t.clientCertPair
          ? 'the server closed the connection right after the TLS handshake: it refused the client certificate (not issued by a CA it trusts, or expired)'
          : 'the server closed the TLS connection during the handshake',
      ),
    );
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
