// Address arithmetic for the cluster file's checks: canonical IPs and CIDR ranges as bigints.
// Pure (no node: imports). Text forms: RFC 4291 section 2.2 (IPv6 text), RFC 5952 (canonical IPv6).
import { isIPv4, isIPv6 } from '../kubeadm/validate';

export type Family = 4 | 6;
export interface Ip {
  family: Family;
  value: bigint;
}
export interface Cidr {
  family: Family;
  network: bigint;
  prefix: number;
  text: string;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function parseIp(s: string): Ip | undefined {
  if (isIPv4(s)) return { family: 4, value: s.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n) };
  if (!isIPv6(s)) return undefined;
  let text = s.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // an embedded IPv4 address is the last two groups
    const v4 = parseIp(last)!.value;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const groups = (x: string) => (x === '' ? [] : x.split(':').map((g) => BigInt(parseInt(g, 16))));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...Array<bigint>(8 - h.length - r.length).fill(0n), ...r];
  const value = all.reduce((acc, g) => (acc << 16n) | g, 0n);
  // An IPv4-mapped address (::ffff:10.0.0.8, RFC 4291 section 2.5.5.2) is that IPv4 address: the
  // duplicate and range checks must see it as one.
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** 127.0.0.0/8 or ::1: the machine itself, whichever machine reads it. */
export function isLoopback(ip: Ip): boolean {
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

/** Why an address cannot be a host's: the unspecified address, or an IPv4-mapped form to write plainly. */
export function hostIpProblem(s: string): string | undefined {
  const ip = parseIp(s);
  if (!ip) return undefined;
  if (ip.value === 0n) return "is the unspecified address (any address); give the host's own address";
  if (ip.family === 4 && isIPv6(s)) return `is an IPv4-mapped IPv6 address; write it as ${formatIp(ip)}`;
  return undefined;
}

/** The RFC 5952 form (lower case, longest zero run as ::), or dotted quad for IPv4. */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best.at < 0 ? hex(g) : `${hex(g.slice(0, best.at))}::${hex(g.slice(best.at + best.len))}`;
}

/** One address, canonical: `fd00:0:0::7` and `FD00::7` are both `fd00::7`; a DNS name is lower-cased. */
export function canonicalAddress(s: string): string {
  const ip = parseIp(s);
  return ip ? formatIp(ip) : s.toLowerCase();
}

export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const ip = parseIp(m[1]);
  const prefix = Number(m[2]);
  if (!ip || prefix > BITS[ip.family]) return undefined;
  return { family: ip.family, network: ip.value, prefix, text: s.trim() };
}

function mask(c: { family: Family; prefix: number }): bigint {
  const bits = BigInt(BITS[c.family]);
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(c.prefix))) - 1n);
}

/** The range's network address when host bits are set (192.168.1.5/16 -> 192.168.0.0/16), else undefined. */
export function hostBitsFixed(c: Cidr): string | undefined {
  const net = c.network & mask(c);
  return net === c.network ? undefined : `${formatIp({ family: c.family, value: net })}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  return c.family === ip.family && (ip.value & mask(c)) === (c.network & mask(c));
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefix <= b.prefix ? a : b;
  return (a.network & mask(shorter)) === (b.network & mask(shorter));
}

export const addressBits = (f: Family): number => BITS[f];
