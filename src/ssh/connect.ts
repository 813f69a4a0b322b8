// Opens one ssh2 Client with host-key pinning (strict, or accept-new for unknown hosts),
// publickey-only auth, Nagle off and keepalive on, optionally through a jump host and with agent
// forwarding. Resolves only after 'ready'; every failure becomes a typed SshError.
// ssh2 README, Client connect() config: `sock` (a stream to use instead of a new TCP connection, for
// connection hopping), `hostVerifier` (key[, callback]) and `agent` + `agentForward` (OpenSSH
// auth-agent@openssh.com on each session channel).
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import {
  fingerprint,
  hostKeyVerifier,
  keyTypeOf,
  knownHostsName,
  recordHostKey,
  type KnownHostEntry,
} from './known-hosts';
import { SshError, classifyConnectError, type HostRef } from './errors';
import type { SshTarget } from './types';

const SUPPORTED_HOST_KEY_ALGS = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
]);

/** known_hosts key type -> ssh2 serverHostKey algorithm names that present that key. */
function hostKeyAlgorithms(keyTypes: string[]): string[] {
  const algs = keyTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  return [...new Set(algs.filter((a) => SUPPORTED_HOST_KEY_ALGS.has(a)))];
}

export interface ConnectOptions {
  signal?: AbortSignal;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
}

export function refOf(t: SshTarget): HostRef {
  return { name: t.name, host: t.host, port: t.port };
}

/** The message OpenSSH gives for a changed key, with what to fix (ssh(1) "REMOTE HOST IDENTIFICATION HAS CHANGED"). */
function changedKeyMessage(target: SshTarget, presented: Buffer, entries: KnownHostEntry[]): string {
  const name = knownHostsName(target.host, target.port);
  const expected = entries.map((e) => `${fingerprint(e.key)} (${e.keyType}, line ${e.line ?? '?'})`).join(', ');
  const lines = entries
    .map((e) => e.line)
    .filter((l) => l !== undefined)
    .join(', ');
  return (
    `host key for ${name} does not match known_hosts file ${target.knownHostsFile}: it has CHANGED. Expected ${expected}, ` +
    `the host presented ${fingerprint(presented)} (${keyTypeOf(presented)}). Someone may be intercepting the connection, or the host ` +
    `was rebuilt: verify the new key out of band, then update line ${lines} of ${target.knownHostsFile} ` +
    `(ssh-keygen -R '${name}' -f '${target.knownHostsFile}' removes it)`
  );
}

/** A target reached through its jump host is dialled over a direct-tcpip channel (ssh_config(5) ProxyJump). */
function forwardTo(jump: Client, target: SshTarget): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    // Source address and port are informational for sshd (RFC 4254 section 7.2 "originator").
    jump.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

export async function connectClient(target: SshTarget, opts: ConnectOptions = {}): Promise<Client> {
  if (!target.jump) return connectOne(target, opts);
  const ref = refOf(target);
  const jumpAt = `${target.jump.host}:${target.jump.port}`;
  let jump: Client;
  try {
    jump = await connectOne(target.jump, opts);
  } catch (err) {
    if (!(err instanceof SshError)) throw err;
    // Keep the kind (host key, auth, unreachable ...) and its advice; name the target host.
    throw new SshError(err.kind, ref, `via jump host ${target.jump.user}@${jumpAt}: ${err.message}`, {
      retryable: err.retryable,
    });
  }
  let sock: ClientChannel;
  try {
    sock = await forwardTo(jump, target);
  } catch (err) {
    jump.end();
    throw new SshError(
      'unreachable',
      ref,
      `jump host ${jumpAt} cannot open a connection to ${target.host}:${target.port} (${(err as Error).message}); ` +
        'check that the host is up and that the jump host allows TCP forwarding (sshd_config AllowTcpForwarding)',
      { cause: err },
    );
  }
  try {
    const client = await connectOne(target, opts, sock);
    // One lifetime: the jump connection ends when the target's does.
    client.once('close', () => jump.end());
    jump.on('close', () => client.destroy());
    return client;
  } catch (err) {
    jump.end();
    throw err;
  }
}

function connectOne(target: SshTarget, opts: ConnectOptions, sock?: ClientChannel): Promise<Client> {
  const ref = refOf(target);
  const policy = target.hostKeyPolicy ?? 'strict';
  const pin = hostKeyVerifier(target.knownHosts, target.host, target.port);
  const algs = hostKeyAlgorithms(pin.keyTypes);
  const name = knownHostsName(target.host, target.port);
  if (policy === 'strict' && (!pin.known || algs.length === 0)) {
    // Never trust on first use: refuse before any packet is sent.
    return Promise.reject(
      new SshError(
        'unknown-host',
        ref,
        `no usable host key for ${name} in known_hosts file ${target.knownHostsFile}; ` +
          `verify the host's key out of band and add it to that file (or set ssh.hostKeyPolicy: accept-new)`,
      ),
    );
  }
  if (opts.signal?.aborted) return Promise.reject(new SshError('aborted', ref, 'connect aborted before it started'));
  const agent = target.forwardAgent ? process.env.SSH_AUTH_SOCK : undefined;
  if (target.forwardAgent && !agent) {
    return Promise.reject(
      new SshError(
        'auth-failed',
        ref,
        'ssh.forwardAgent is set but the worker has no ssh-agent (SSH_AUTH_SOCK is empty); start the worker with an agent or turn forwardAgent off',
      ),
    );
  }

  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyRejected: string | undefined;
    let settled = false;
    const finish = (err?: SshError) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.destroy();
        reject(err);
      } else resolve(client);
    };
    const onAbort = () => finish(new SshError('aborted', ref, 'connect aborted'));
    // Permanent listener: an 'error' without a listener would crash the worker process.
    client.on('error', (err) =>
      finish(
        hostKeyRejected !== undefined
          ? new SshError('host-key-mismatch', ref, hostKeyRejected)
          : classifyConnectError(err, ref, {
              hostKeyRejected: false,
              knownHostsFile: target.knownHostsFile,
              user: target.user,
            }),
      ),
    );
    client.on('close', () =>
      finish(
        new SshError(
          hostKeyRejected !== undefined ? 'host-key-mismatch' : 'connection-lost',
          ref,
          hostKeyRejected ?? 'connection closed during handshake',
        ),
      ),
    );
    client.once('ready', () => finish());
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const verifyKnown = (key: Buffer): boolean => {
      if (pin.verify(key)) return true;
      hostKeyRejected = changedKeyMessage(target, key, pin.entries);
      return false;
    };
    const config: ConnectConfig = {
      ...(sock ? { sock } : { host: target.host, port: target.port }),
      username: target.user,
      privateKey: target.privateKey,
      readyTimeout: opts.readyTimeoutMs ?? 15_000,
      keepaliveInterval: opts.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: 3,
      // A known host: only the pinned key types, so the server cannot switch to a type we did not
      // pin. An unknown host under accept-new: ssh2's defaults, whatever it presents is recorded.
      ...(pin.known && algs.length > 0
        ? { algorithms: { serverHostKey: algs as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } }
        : {}),
      hostVerifier: pin.known
        ? verifyKnown
        : (key: Buffer, done: (ok: boolean) => void) => {
            // accept-new, unknown host: record the key under the file's lock; another activity may
            // have recorded this host meanwhile, then its key must match.
            recordHostKey(target.knownHostsFile, target.host, target.port, key).then(
              (r) => {
                if (r.outcome === 'changed') {
                  hostKeyRejected = changedKeyMessage(target, key, r.entries);
                  done(false);
                } else done(true);
              },
              (err: Error) => {
                hostKeyRejected = `cannot record the new host key ${fingerprint(key)} for ${name} in known_hosts file ${target.knownHostsFile}: ${err.message}`;
                done(false);
              },
            );
          },
      // publickey only: stray methods count towards MaxAuthTries and sshd penalties. The agent,
      // when set, is only forwarded (ssh2 agentForward, like ssh -A), never used to log in.
      authHandler: ['publickey'] as unknown as ConnectConfig['authHandler'],
      ...(agent ? { agent, agentForward: true } : {}),
    };
    try {
      client.connect(config);
      if (!sock) client.setNoDelay(true); // Nagle + delayed ACK cost ~40 ms per exec round trip
    } catch (err) {
      // ssh2 throws synchronously for an unparsable key.
      finish(
        new SshError('bad-private-key', ref, `the private key cannot be used: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    }
  });
}
