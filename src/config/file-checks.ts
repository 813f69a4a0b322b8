// The files a cluster file names, read with bounds and parsed at validation: the SSH private key
// (as ssh2 will read it), an existing etcd's CA, client certificate and key, the known_hosts and
// CNI manifest. A problem names its field and the fix.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { accessSync, closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { utils as sshUtils } from 'ssh2';
import { LIMITS } from './schema-parts';
import { escapeControls, isObject, type Raw } from './text';

export class TooLarge extends Error {
  constructor(readonly size: number) {
    super(`larger than the limit (${size} bytes or more)`);
  }
}

/** A regular file's bytes, at most `max` (reading stops there, so /dev/zero or a huge file costs little). */
export function readBounded(p: string, max: number): Buffer {
  const fd = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
    if (st.size > max) throw new TooLarge(st.size);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (let r; n <= max && (r = readSync(fd, buf, n, max + 1 - n, null)) > 0;) n += r;
    if (n > max) throw new TooLarge(n);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function fileChecks(doc: Raw, base: string, problems: string[]): void {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const sec = (v: unknown) => (isObject(v) ? v : {});
  const cannot = (field: string, what: string, p: string, e: unknown) =>
    problems.push(
      `${field}: cannot read ${what} ${showPath(p)} (${e instanceof TooLarge ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message)}); check the path and permissions`,
    );
  const privateMode = (field: string, p: string) => {
    if ((statSync(p).mode & 0o077) !== 0)
      problems.push(`${field}: ${showPath(p)} is readable by group or others; run: chmod 600 ${shellWord(p)}`);
  };
  /** The file's bytes, or undefined with the problem recorded. */
  const read = (field: string, raw: unknown, what: string): [string, Buffer] | undefined => {
    const given = str(raw);
    if (given === undefined) return undefined;
    const p = resolvePath(given, base);
    try {
      return [p, readBounded(p, LIMITS.keyFileBytes)];
    } catch (e) {
      cannot(field, what, p, e);
      return undefined;
    }
  };

  const manifest = str(sec(doc.cni).manifest);
  if (manifest !== undefined) {
    const p = resolvePath(manifest, base);
    try {
      accessSync(p, constants.R_OK);
      if (!statSync(p).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
    } catch (e) {
      cannot('cni.manifest', 'the CNI manifest', p, e);
    }
  }

  const ssh = sec(doc.ssh);
  const key = read('ssh.privateKeyFile', ssh.privateKeyFile, 'the SSH private key');
  if (key) {
    privateMode('ssh.privateKeyFile', key[0]);
    const p = sshKeyProblem(key[1]);
    if (p) problems.push(`ssh.privateKeyFile: ${showPath(key[0])} ${p}`);
  }
  const knownHosts = str(ssh.knownHostsFile) ?? '~/.ssh/known_hosts';
  const khPath = resolvePath(knownHosts, base);
  const acceptNew = ssh.hostKeyPolicy === 'accept-new';
  try {
    accessSync(khPath, constants.R_OK | (acceptNew ? constants.W_OK : 0));
    if (!statSync(khPath).isFile())
      throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    let dirOk = false;
    try {
      accessSync(dirname(khPath), constants.W_OK);
      dirOk = true;
    } catch {
      /* reported below */
    }
    // accept-new records new hosts, so a file that does not exist yet is fine where it can be created.
    if (!(acceptNew && missing && dirOk)) {
      cannot(
        'ssh.knownHostsFile',
        acceptNew
          ? 'and write the known_hosts file (hostKeyPolicy accept-new records keys there)'
          : 'the known_hosts file',
        khPath,
        e,
      );
    }
  }

  const etcd = sec(doc.etcd);
  if (doc.topology === 'external' && isObject(doc.etcd) && !('hosts' in etcd)) {
    for (const [k, what] of [
      ['caFile', 'the etcd CA certificate'],
      ['certFile', 'the etcd client certificate'],
    ] as const) {
      const f = read(`etcd.${k}`, etcd[k], what);
      const p = f && pemCertificateProblem(f[1]);
      if (f && p) problems.push(`etcd.${k}: ${showPath(f[0])} ${p}; give ${what} in PEM form`);
    }
    const f = read('etcd.keyFile', etcd.keyFile, 'the etcd client key');
    if (f) {
      privateMode('etcd.keyFile', f[0]);
      const p = pemPrivateKeyProblem(f[1]);
      if (p) problems.push(`etcd.keyFile: ${showPath(f[0])} ${p}`);
    }
  }
}

/** Why ssh2 (the worker's SSH client) could not authenticate with this file, or undefined. */
export function sshKeyProblem(data: Buffer): string | undefined {
  const s = data.toString('latin1');
  if (s.trim() === '') return 'is empty; give the SSH private key (e.g. ~/.ssh/id_ed25519)';
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(s)) {
    return "is a PKCS#8 key, which the SSH client (ssh2) cannot read; convert it to the OpenSSH format: ssh-keygen -p -N '' -f <a copy>";
  }
  if (/-----BEGIN PUBLIC KEY-----/.test(s)) return 'is a public key; give the private key';
  const k = sshUtils.parseKey(data);
  if (k instanceof Error) {
    if (/passphrase/i.test(k.message)) {
      return "is protected by a passphrase, which kubeadm-ha cannot type: it needs an unencrypted key (decrypt a copy: ssh-keygen -p -N '' -f <copy>, chmod 600) or an agent";
    }
    return `is not an SSH private key (${k.message}); give an OpenSSH, PEM or PuTTY private key`;
  }
  const key = Array.isArray(k) ? k[0] : k;
  if (!key.isPrivateKey()) return `is a public key (${key.type}); give the private key (the file without .pub)`;
  return undefined;
}

function pemCertificateProblem(data: Buffer): string | undefined {
  if (!data.toString('latin1').includes('-----BEGIN CERTIFICATE-----'))
    return 'is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)';
  try {
    new X509Certificate(data);
    return undefined;
  } catch (e) {
    return `holds no readable certificate (${(e as Error).message})`;
  }
}

function pemPrivateKeyProblem(data: Buffer): string | undefined {
  const s = data.toString('latin1');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s))
    return 'is not a PEM private key (no "-----BEGIN ... PRIVATE KEY-----" line); give the client certificate\'s key';
  if (/ENCRYPTED/.test(s))
    return 'is protected by a passphrase; the API server needs an unencrypted key (decrypt a copy: openssl pkey -in <key> -out <copy>, chmod 600)';
  try {
    // An empty passphrase: never a prompt on the terminal.
    createPrivateKey({ key: data, format: 'pem', passphrase: '' });
    return undefined;
  } catch (e) {
    return `holds no readable private key (${(e as Error).message})`;
  }
}

/** A path in a message: escaped, unquoted, cut only when absurdly long. */
export function showPath(p: string): string {
  return escapeControls(p.length > 300 ? `${p.slice(0, 300)}...` : p);
}

/** A path as one shell word, for a command to copy. */
export function shellWord(p: string): string {
  return /^[\w./~+-]+$/.test(p) ? p : `'${showPath(p).replace(/'/g, `'\\''`)}'`;
}

export function resolvePath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}
