// Builds an SshTarget from the cluster file: reads the key and known_hosts on the worker; with
// ssh.jumpHost, also the bastion's target (same key, known_hosts file and host-key policy).
import { stat } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import { utils } from 'ssh2';
import { checkWorkerFolder, readWorkerFile } from '../worker-files';
import { SshError } from './errors';
import { parseKnownHosts } from './known-hosts';
import type { SshTarget } from './types';

export async function loadTarget(
  host: { name: string; address: string; port: number },
  ssh: {
    user: string;
    privateKeyFile: string;
    knownHostsFile: string;
    hostKeyPolicy?: 'strict' | 'accept-new';
    jumpHost?: { address: string; port: number; user: string };
    forwardAgent?: boolean;
  },
): Promise<SshTarget> {
  const policy = ssh.hostKeyPolicy ?? 'strict';
  const ref = { name: host.name, host: host.address, port: host.port };
  const keyFile = ssh.privateKeyFile;
  let privateKey: Buffer;
  try {
    const st = await stat(keyFile);
    // Same rule as OpenSSH ("UNPROTECTED PRIVATE KEY FILE!"); ssh2 itself does not check.
    if ((st.mode & 0o077) !== 0) {
      throw new SshError(
        'bad-private-key',
        ref,
        `private key file ${keyFile} is accessible by group/others (mode ${(st.mode & 0o777).toString(8)}); run \`chmod 600 ${keyFile}\``,
      );
    }
    privateKey = await readWorkerFile(keyFile, 'ssh.privateKeyFile');
  } catch (err) {
    if (err instanceof SshError || err instanceof ApplicationFailure) throw err;
    throw new SshError(
      'bad-private-key',
      ref,
      `cannot read private key file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) {
    throw new SshError(
      'bad-private-key',
      ref,
      `private key file ${keyFile} cannot be parsed (${parsed.message}); encrypted keys are not supported`,
    );
  }
  let text: string;
  try {
    text = (await readWorkerFile(ssh.knownHostsFile, 'ssh.knownHostsFile')).toString('utf8');
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    // accept-new creates the file with the first host it records.
    if (policy === 'accept-new' && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      await checkWorkerFolder(ssh.knownHostsFile, 'ssh.knownHostsFile');
      text = '';
    } else
      throw new SshError(
        'unknown-host',
        ref,
        `cannot read known_hosts file ${ssh.knownHostsFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}); create it with the verified host keys`,
      );
  }
  return {
    name: host.name,
    host: host.address,
    port: host.port,
    user: ssh.user,
    privateKey,
    knownHostsFile: ssh.knownHostsFile,
    knownHosts: parseKnownHosts(text),
    hostKeyPolicy: policy,
    forwardAgent: ssh.forwardAgent === true,
    // The agent is forwarded to the hosts only: the bastion just relays a TCP stream, as with ssh -J.
    ...(ssh.jumpHost
      ? {
          jump: {
            name: `jump host ${ssh.jumpHost.address}`,
            host: ssh.jumpHost.address,
            port: ssh.jumpHost.port,
            user: ssh.jumpHost.user,
            privateKey,
            knownHostsFile: ssh.knownHostsFile,
            knownHosts: parseKnownHosts(text),
            hostKeyPolicy: policy,
            forwardAgent: false,
          },
        }
      : {}),
  };
}
