// One exec channel: open (retrying MaxSessions refusals briefly), feed stdin, drain both streams.
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';

export interface ChannelOutcome {
  /** undefined = the server sent no exit status (connection dropped or channel closed early). */
  code: number | null | undefined;
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
  truncated: boolean;
}

export class ChannelOpenError extends Error {}
export class NotConnectedError extends Error {}
/** ssh2 closes the channel when the server answers auth-agent-req@openssh.com with a failure. */
export class AgentForwardRefusedError extends Error {}

function openOnce(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (err, stream) => {
        if (!err) return resolve(stream);
        // reason 2 "open failed" = MaxSessions; other errors here mean the connection is gone.
        if ((err as { reason?: number }).reason !== undefined) reject(new ChannelOpenError(err.message));
        else if (/agent forwarding/i.test(err.message)) reject(new AgentForwardRefusedError(err.message));
        else reject(new NotConnectedError(err.message));
      });
    } catch (err) {
      reject(new NotConnectedError((err as Error).message)); // 'Not connected' is thrown synchronously
    }
  });
}

/** Retries "open failed" a few times with backoff: another client may hold sessions briefly. */
export async function openExec(client: Client, command: string): Promise<ClientChannel> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await openOnce(client, command);
    } catch (err) {
      if (!(err instanceof ChannelOpenError) || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}

export interface DrainOptions {
  stdin?: string | Buffer;
  maxBytes: number;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
}

/**
 * Consumes stdout and stderr (they share one flow-control window, so an unread stderr stalls
 * stdout and 'close' never fires), always sends stdin EOF so stdin readers cannot hang, and
 * resolves on 'close'.
 */
export function drain(stream: ClientChannel, opts: DrainOptions): Promise<ChannelOutcome> {
  return new Promise((resolve) => {
    const bufs = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    let truncated = false;
    let exit: { code: number | null; signal?: string } | undefined;
    const sink = (name: 'stdout' | 'stderr') => {
      const decoder = new StringDecoder('utf8');
      return (chunk: Buffer) => {
        const room = opts.maxBytes - sizes[name];
        if (chunk.length > room) truncated = true;
        if (room > 0) {
          const part = chunk.subarray(0, room);
          bufs[name].push(part);
          sizes[name] += part.length;
        }
        if (opts.onOutput) {
          const text = decoder.write(chunk);
          if (text)
            try {
              opts.onOutput(name, text);
            } catch {
              /* a logging callback must not break the run */
            }
        }
      };
    };
    stream.on('data', sink('stdout'));
    stream.stderr.on('data', sink('stderr'));
    stream.on('error', () => undefined); // surfaced through 'close' without an exit status
    stream.on('exit', (code: number | null, signal?: string) => {
      exit = { code, signal: signal ?? undefined };
    });
    stream.on('close', (code?: number | null, signal?: string) => {
      const c = exit ?? (code === undefined ? undefined : { code, signal: signal ?? undefined });
      resolve({
        code: c === undefined ? undefined : c.code,
        signal: c?.signal,
        stdout: Buffer.concat(bufs.stdout),
        stderr: Buffer.concat(bufs.stderr),
        truncated,
      });
    });
    stream.end(opts.stdin ?? '');
  });
}
