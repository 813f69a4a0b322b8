// Strict known_hosts pinning (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"). No trust on first use:
// a host without an entry is refused by the session layer.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostEntry { hosts: string; keyType: string; key: Buffer }

/**
 * Parses plain ("a,b,[c]:2222"), wildcard and hashed ("|1|salt|hmac") entries.
 * Comments and @cert-authority lines are skipped. @revoked lines are skipped too, and any
 * entry whose key is revoked elsewhere in the file is dropped, so a revoked key never verifies.
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
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
    entries.push({ hosts, keyType, key });
  }
  return entries.filter((e) => !revoked.some((r) => sameBytes(r, e.key)));
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** True when the hosts field of one line names `name` (OpenSSH match_hostname semantics, simplified). */
function hostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
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

/** Looks up "[host]:port", or the bare host when the port is 22, as OpenSSH writes them. */
export function hostKeyVerifier(
  entries: KnownHostEntry[],
  host: string,
  port: number,
): { known: boolean; keyTypes: string[]; verify(key: Buffer): boolean } {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const candidates = entries.filter((e) => hostsFieldMatches(e.hosts, name));
  return {
    known: candidates.length > 0,
    keyTypes: [...new Set(candidates.map((e) => e.keyType))],
    // ssh2 hands over the raw host-key blob, byte-identical to the decoded known_hosts field.
    verify: (key: Buffer) => candidates.some((e) => sameBytes(e.key, key)),
  };
}
