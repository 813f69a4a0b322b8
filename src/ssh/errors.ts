// Typed SSH failures. `retryable` feeds the Temporal retry policy: the non-retryable kinds need
// an operator (fix known_hosts, key, user or sudoers) and retrying only adds auth-failure noise.
import { redact } from '../common/redact';

export type SshErrorKind =
  | 'unknown-host'
  | 'host-key-mismatch'
  | 'auth-failed'
  | 'bad-private-key'
  | 'unreachable'
  | 'handshake-timeout'
  | 'connection-lost'
  | 'channel-open-failed'
  | 'aborted'
  | 'sudo-failed';

const NOT_RETRYABLE: ReadonlySet<SshErrorKind> = new Set<SshErrorKind>([
  'unknown-host',
  'host-key-mismatch',
  'auth-failed',
  'bad-private-key',
  'sudo-failed',
]);

export interface HostRef {
  name: string;
  host: string;
  port: number;
}

export class SshError extends Error {
  readonly kind: SshErrorKind;
  /** The host's name from the cluster file (e.g. "cp1"). */
  readonly host: string;
  /** "address:port" actually dialled. */
  readonly address: string;
  readonly retryable: boolean;
  /** The host as dialled, and what went wrong without the host's name in front. */
  readonly ref: HostRef;
  readonly detail: string;

  constructor(kind: SshErrorKind, ref: HostRef, detail: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    const address = `${ref.host}:${ref.port}`;
    // Redacted here so no caller can leak a secret through a message by accident.
    super(redact(`host ${ref.name} (${address}): ${detail}`));
    this.name = 'SshError';
    this.kind = kind;
    this.host = ref.name;
    this.address = address;
    this.ref = { ...ref };
    this.detail = redact(detail);
    this.retryable = opts.retryable ?? !NOT_RETRYABLE.has(kind);
    if (opts.cause !== undefined) {
      // Keep only a redacted message of the cause: ssh2 errors can carry buffers or config.
      const c = opts.cause as { message?: unknown };
      this.cause = typeof c?.message === 'string' ? redact(c.message) : undefined;
    }
  }
}

/** The same failure, final: nothing retries it any more; `note` says what was tried (e.g. "8 tries in 39 s"). */
export function finalError(err: SshError, note: string): SshError {
  return new SshError(err.kind, err.ref, `${err.detail}; ${note}`, { cause: err, retryable: false });
}

/** A remote file operation failed although the transport is fine (missing file, permissions). */
export class RemoteFileError extends Error {
  readonly host: string;
  readonly path: string;
  /** 'ENOENT' when the file does not exist, 'EACCES' on permission problems, else 'EFAIL'. */
  readonly code: 'ENOENT' | 'EACCES' | 'EFAIL';
  constructor(ref: HostRef, path: string, code: RemoteFileError['code'], detail: string) {
    super(redact(`host ${ref.name} (${ref.host}:${ref.port}): ${path}: ${detail}`));
    this.name = 'RemoteFileError';
    this.host = ref.name;
    this.path = path;
    this.code = code;
  }
}

interface Ssh2Error extends Error {
  level?: string;
  code?: string | number;
  reason?: number;
}

/** Maps an ssh2 connect-phase error to an SshError with advice on what to do. */
export function classifyConnectError(
  err: unknown,
  ref: HostRef,
  ctx: { hostKeyRejected: boolean; knownHostsFile: string; user: string },
): SshError {
  const e = (err instanceof Error ? err : new Error(String(err))) as Ssh2Error;
  const msg = e.message ?? '';
  if (ctx.hostKeyRejected || /verification failed/i.test(msg) || (e.level === 'handshake' && /host key/i.test(msg))) {
    return new SshError(
      'host-key-mismatch',
      ref,
      `host key does not match known_hosts file ${ctx.knownHostsFile}; if the host was rebuilt, verify the new key out of band and update that file (${msg})`,
      { cause: e },
    );
  }
  if (e.level === 'client-authentication') {
    return new SshError(
      'auth-failed',
      ref,
      `public-key authentication failed for user ${ctx.user}; check the private key and the user's authorized_keys`,
      { cause: e },
    );
  }
  if (/Cannot parse privateKey|privateKey value does not contain/i.test(msg)) {
    return new SshError('bad-private-key', ref, `the private key cannot be used: ${msg}`, { cause: e });
  }
  if (e.level === 'client-timeout' && /handshake/i.test(msg)) {
    return new SshError(
      'handshake-timeout',
      ref,
      'timed out during connect/handshake; the host may be overloaded or a firewall drops traffic',
      { cause: e },
    );
  }
  if (e.level === 'client-socket' || e.level === 'client-dns' || typeof e.code === 'string') {
    return new SshError(
      'unreachable',
      ref,
      `cannot connect (${e.code ?? msg}); check that the host is up and sshd listens on that port`,
      { cause: e },
    );
  }
  if (e.level === 'handshake') {
    // Algorithm mismatch, e.g. the server has no host key of the pinned type.
    return new SshError(
      'host-key-mismatch',
      ref,
      `handshake failed (${msg}); the server may not offer the host key type pinned in ${ctx.knownHostsFile}`,
      { cause: e },
    );
  }
  return new SshError('connection-lost', ref, `connection failed: ${msg}`, { cause: e });
}
