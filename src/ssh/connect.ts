// Opens one ssh2 Client with strict host-key pinning, publickey-only auth, Nagle off and
// keepalive on. Resolves only after 'ready'; every failure becomes a typed SshError.
import { Client, type ConnectConfig } from 'ssh2';
import { hostKeyVerifier } from './known-hosts';
import { SshError, classifyConnectError, type HostRef } from './errors';
import type { SshTarget } from './session';

const SUPPORTED_HOST_KEY_ALGS = new Set([
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
]);

/** known_hosts key type -> ssh2 serverHostKey algorithm names that present that key. */
function hostKeyAlgorithms(keyTypes: string[]): string[] {
  const algs = keyTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  return [...new Set(algs.filter((a) => SUPPORTED_HOST_KEY_ALGS.has(a)))];
}

export interface ConnectOptions { signal?: AbortSignal; readyTimeoutMs?: number; keepaliveIntervalMs?: number }

export function refOf(t: SshTarget): HostRef { return { name: t.name, host: t.host, port: t.port }; }

export function connectClient(target: SshTarget, opts: ConnectOptions = {}): Promise<Client> {
  const ref = refOf(target);
  const pin = hostKeyVerifier(target.knownHosts, target.host, target.port);
  const algs = hostKeyAlgorithms(pin.keyTypes);
  if (!pin.known || algs.length === 0) {
    // Never trust on first use: refuse before any packet is sent.
    return Promise.reject(new SshError('unknown-host', ref,
      `no usable host key for ${target.port === 22 ? target.host : `[${target.host}]:${target.port}`} in known_hosts file ${target.knownHostsFile}; ` +
      `verify the host's key out of band and add it to that file`));
  }
  if (opts.signal?.aborted) return Promise.reject(new SshError('aborted', ref, 'connect aborted before it started'));

  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyRejected = false;
    let settled = false;
    const finish = (err?: SshError) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) { client.destroy(); reject(err); } else resolve(client);
    };
    const onAbort = () => finish(new SshError('aborted', ref, 'connect aborted'));
    // Permanent listener: an 'error' without a listener would crash the worker process.
    client.on('error', (err) => finish(classifyConnectError(err, ref, { hostKeyRejected, knownHostsFile: target.knownHostsFile, user: target.user })));
    client.on('close', () => finish(new SshError('connection-lost', ref, 'connection closed during handshake')));
    client.once('ready', () => finish());
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      readyTimeout: opts.readyTimeoutMs ?? 15_000,
      keepaliveInterval: opts.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: 3,
      // Only the pinned key types, so the server cannot switch to a type we did not pin.
      algorithms: { serverHostKey: algs as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      hostVerifier: (key: Buffer) => {
        const ok = pin.verify(key);
        if (!ok) hostKeyRejected = true;
        return ok;
      },
      // publickey only: stray methods count towards MaxAuthTries and sshd penalties.
      authHandler: ['publickey'] as unknown as ConnectConfig['authHandler'],
    };
    try {
      client.connect(config);
      client.setNoDelay(true); // Nagle + delayed ACK cost ~40 ms per exec round trip
    } catch (err) {
      // ssh2 throws synchronously for an unparsable key.
      finish(new SshError('bad-private-key', ref, `the private key cannot be used: ${(err as Error).message}`, { cause: err }));
    }
  });
}
