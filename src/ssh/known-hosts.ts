// known_hosts pinning (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"). Policy 'strict' (default): a host
// without an entry is refused by the session layer. Policy 'accept-new' (ssh_config(5)
// StrictHostKeyChecking=accept-new): an unknown host's key is appended here on first use. A key
// that differs from a recorded one is refused under both policies.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { withFileLock } from './file-lock';

export interface KnownHostEntry {
  hosts: string;
  keyType: string;
  key: Buffer;
  /** 1-based line in the file. */ line?: number;
}

/**
 * Parses plain ("a,b,[c]:2222"), wildcard and hashed ("|1|salt|hmac") entries.
 * Comments and @cert-authority lines are skipped. @revoked lines are skipped too, and any
 * entry whose key is revoked elsewhere in the file is dropped, so a revoked key never verifies.
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const revoked: Buffer[] = [];
  const rows = text.split(/\r?\n/);
  for (let n = 0; n < rows.length; n++) {
    const line = rows[n].trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    if (fields[0].startsWith('@')) {
      if (fields[0] === '@revoked' && fields[3]) revoked.push(Buffer.from(fields[3], 'base64'));
      continue;
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) continue;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) continue;
    entries.push({ hosts, keyType, key, line: n + 1 });
  }
  return entries.filter((e) => !revoked.some((r) => sameBytes(r, e.key)));
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** True when the hosts field of one line names `name` (OpenSSH match_hostname semantics, simplified). */
function hostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name.toLowerCase()).digest();
    return sameBytes(mac, Buffer.from(hash, 'base64'));
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    const hit = /[*?]/.test(p) ? globToRegExp(p).test(name) : p.toLowerCase() === name.toLowerCase();
    if (hit && negated) return false; // a matching negation vetoes the whole line
    if (hit) matched = true;
  }
  return matched;
}

/**
 * The name OpenSSH looks up and records: "[host]:port", or the bare host when the port is 22
 * (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT), lower-cased first as ssh(1) does with the host name before
 * any lookup (OpenSSH ssh.c main(): lowercase(host)), so a hashed entry made for w1.example.com
 * matches W1.Example.COM. Hashed entries are HMAC-SHA1 of that name (known_hosts HashKnownHosts).
 */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** OpenSSH-style fingerprint of a wire-format public key: "SHA256:" + unpadded base64 (ssh-keygen -l). */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of a wire-format public key blob (RFC 4253 section 6.6). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const n = key.readUInt32BE(0);
  return n > 0 && n < 64 && key.length >= 4 + n ? key.subarray(4, 4 + n).toString('latin1') : 'unknown';
}

/** A known_hosts line for `name`, hashed ("|1|salt|hmac", as ssh-keyscan -H writes) or plain. */
export function knownHostsLine(name: string, key: Buffer, hashed: boolean): string {
  let field = name;
  if (hashed) {
    const salt = randomBytes(20);
    field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${field} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

export interface HostKeyVerifier {
  known: boolean;
  keyTypes: string[];
  /** The recorded entries for this host (for the "which line to fix" message). */
  entries: KnownHostEntry[];
  verify(key: Buffer): boolean;
}

export function hostKeyVerifier(entries: KnownHostEntry[], host: string, port: number): HostKeyVerifier {
  const name = knownHostsName(host, port);
  const candidates = entries.filter((e) => hostsFieldMatches(e.hosts, name));
  return {
    known: candidates.length > 0,
    entries: candidates,
    keyTypes: [...new Set(candidates.map((e) => e.keyType))],
    // ssh2 hands over the raw host-key blob, byte-identical to the decoded known_hosts field.
    verify: (key: Buffer) => candidates.some((e) => sameBytes(e.key, key)),
  };
}

// ---- accept-new: recording a first-seen key --------------------------------------------------

export type RecordOutcome =
  { outcome: 'added'; line: string } | { outcome: 'known' } | { outcome: 'changed'; entries: KnownHostEntry[] };

/**
 * accept-new: under the lock (`file`.lock, file-lock.ts), re-reads `file` (another activity or
 * worker may have recorded the host in the meantime) and appends the key when the host is still
 * unknown. Hashed when the file already holds hashed entries (as with ssh_config HashKnownHosts),
 * plain otherwise. An existing file keeps its mode (appendFile); a new one is created 0600.
 */
export function recordHostKey(file: string, host: string, port: number, key: Buffer): Promise<RecordOutcome> {
  return withFileLock(file, async () => {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const v = hostKeyVerifier(parseKnownHosts(text), host, port);
    if (v.verify(key)) return { outcome: 'known' };
    if (v.known) return { outcome: 'changed', entries: v.entries };
    const hashed = parseKnownHosts(text).some((e) => e.hosts.startsWith('|1|'));
    const line = knownHostsLine(knownHostsName(host, port), key, hashed);
    await appendFile(file, `${text && !text.endsWith('\n') ? '\n' : ''}${line}\n`, { mode: 0o600 });
    return { outcome: 'added', line };
  });
}
