// Address syntax checks for the cluster file (no DNS lookups: the file is checked before anything runs).

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIPv4Cidr(s: string): boolean {
  const [ip, bits, ...rest] = s.split('/');
  return rest.length === 0 && isIPv4(ip) && /^\d{1,2}$/.test(bits ?? '') && Number(bits) <= 32;
}

/** RFC 1123 host name; an all-numeric dotted string is rejected, so a mistyped IP is not taken for a name. */
export function isDnsName(s: string): boolean {
  if (s.length > 253 || /^[\d.]+$/.test(s)) return false;
  return s.split('.').every((l) => /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/.test(l));
}
