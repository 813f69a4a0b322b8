// Input checks shared by the config renderers. Pure (no node: imports) so workflow code may use them.
// Formats: k8s.io/cluster-bootstrap token/api BootstrapTokenPattern (token), kubeadm
// cmd/kubeadm/app/util/pubkeypin (CA hash), cmd/kubeadm/app/phases/copycerts (certificate key).

export const TOKEN_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const CA_HASH_RE = /^sha256:[a-f0-9]{64}$/;
export const CERT_KEY_RE = /^[a-f0-9]{64}$/;

function fail(field: string, msg: string): never {
  throw new Error(`${field}: ${msg}`);
}

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const groups = (x: string) => (x === '' ? [] : x.split(':'));
  let parts = [...groups(dbl[0]), ...(dbl.length === 2 ? groups(dbl[1]) : [])];
  let width = 8;
  const last = parts[parts.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last)) return false;
    parts = parts.slice(0, -1);
    width = 6;
  }
  if (!parts.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return dbl.length === 2 ? parts.length < width : parts.length === width;
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i;

export function isDnsName(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((l) => l.length <= 63 && DNS_LABEL.test(l));
}

/** "host:port" where host is a DNS name, IPv4, or [IPv6]; returns the parts or throws naming `field`. */
export function checkHostPort(field: string, value: string): { host: string; port: number } {
  const m = /^(\[([^\]]+)\]|[^:[\]]+):(\d{1,5})$/.exec(value ?? '');
  if (!m) fail(field, `${JSON.stringify(value)} is not of the form host:port (IPv6 as [addr]:port)`);
  const host = m[2] ?? m[1];
  const port = Number(m[3]);
  const hostOk = m[2] !== undefined ? isIPv6(host) : isIPv4(host) || isDnsName(host);
  if (!hostOk) fail(field, `${JSON.stringify(value)} has an invalid host ${JSON.stringify(host)}`);
  if (port < 1 || port > 65535) fail(field, `${JSON.stringify(value)} has a port outside 1-65535`);
  return { host, port };
}

export function checkPort(field: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(field, `${JSON.stringify(port)} is not a port in 1-65535`);
  return port;
}

const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NODE_NAME_RULE =
  "a lower-case RFC 1123 subdomain: labels of a-z, 0-9 and '-' that start and end with a letter or digit, joined by '.', e.g. \"cp-0\"";

/**
 * Why `name` cannot be a node name, or undefined. kubeadm's ValidateNodeRegistrationOptions
 * (cmd/kubeadm/app/apis/kubeadm/validation/validation.go) checks nodeRegistration.name with
 * apimachinery's IsDNS1123Subdomain (k8s.io/apimachinery/pkg/util/validation: at most 253 characters,
 * `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`); each label is also held to 63
 * characters (RFC 1123 section 2.1 / RFC 1035 section 2.3.4), since the node name is the host's name.
 * The one check for node names: the cluster file and the config renderers both use it.
 */
export function nodeNameProblem(name: string): string | undefined {
  const bad = (why: string) => `${JSON.stringify(name)} is not a valid node name: ${why} (${NODE_NAME_RULE})`;
  if (typeof name !== 'string' || name === '') return bad('it is empty');
  if (name.length > 253)
    return `${JSON.stringify(name.slice(0, 40))}... is not a valid node name: ${name.length} characters, at most 253 (${NODE_NAME_RULE})`;
  if (name !== name.toLowerCase()) return bad('upper-case letters');
  const labels = name.split('.');
  if (labels.some((l) => l === '')) return bad("an empty label (a leading, trailing or doubled '.')");
  const long = labels.find((l) => l.length > 63);
  if (long !== undefined)
    return bad(`the label ${JSON.stringify(long.slice(0, 20))}... has ${long.length} characters, at most 63`);
  const wrong = labels.find((l) => !RFC1123_LABEL.test(l));
  if (wrong !== undefined)
    return bad(
      `the label ${JSON.stringify(wrong)} has a character other than a-z, 0-9 and '-', or starts or ends with '-'`,
    );
  return undefined;
}

/** Node names must be RFC 1123 subdomains, lower case (Kubernetes object names); see nodeNameProblem. */
export function checkNodeName(field: string, name: string): string {
  const problem = nodeNameProblem(name);
  if (problem) fail(field, problem);
  return name;
}

/** kubeadm validates localAPIEndpoint.advertiseAddress as an IP address. */
export function checkIP(field: string, value: string): string {
  if (typeof value !== 'string' || !isIP(value)) {
    fail(field, `${JSON.stringify(value)} is not an IP address (kubeadm requires an IP here, not a DNS name)`);
  }
  return value;
}

/** One CIDR or a dual-stack comma-separated pair, e.g. "10.244.0.0/16" or "10.244.0.0/16,fd00:10:244::/56". */
export function checkCidrs(field: string, value: string): string {
  const ok =
    typeof value === 'string' &&
    value.split(',').every((c) => {
      const m = /^([^/]+)\/(\d{1,3})$/.exec(c.trim());
      if (!m) return false;
      const bits = Number(m[2]);
      return (isIPv4(m[1]) && bits <= 32) || (isIPv6(m[1]) && bits <= 128);
    });
  if (!ok) fail(field, `${JSON.stringify(value)} is not a CIDR such as "192.168.0.0/16"`);
  return value
    .split(',')
    .map((c) => c.trim())
    .join(',');
}

/** Never echoes the value: a bootstrap token is a secret. */
export function checkToken(field: string, token: string): string {
  if (typeof token !== 'string' || !TOKEN_RE.test(token)) {
    fail(field, 'bootstrap token is not of the form [a-z0-9]{6}.[a-z0-9]{16} (e.g. abcdef.0123456789abcdef)');
  }
  return token;
}

export function checkCaHash(field: string, hash: string): string {
  const h = typeof hash === 'string' ? hash.trim().toLowerCase() : '';
  if (!CA_HASH_RE.test(h)) fail(field, `${JSON.stringify(hash)} is not of the form sha256:<64 hex characters>`);
  return h;
}

/** Never echoes the value: the certificate key decrypts the kubeadm-certs Secret. */
export function checkCertificateKey(field: string, key: string): string {
  const k = typeof key === 'string' ? key.trim().toLowerCase() : '';
  if (!CERT_KEY_RE.test(k))
    fail(field, 'certificate key is not 64 hex characters (a 32-byte AES key, see `kubeadm certs certificate-key`)');
  return k;
}

export function checkAbsolutePath(field: string, p: string): string {
  if (typeof p !== 'string' || !p.startsWith('/') || /\s/.test(p))
    fail(field, `${JSON.stringify(p)} is not an absolute path without spaces`);
  return p;
}

/** etcd client URL: http(s)://host:port. */
export function checkEtcdEndpoint(field: string, url: string): string {
  const m = /^https?:\/\/(.+)$/.exec(url ?? '');
  if (!m) fail(field, `${JSON.stringify(url)} is not an etcd URL such as https://10.0.0.11:2379`);
  checkHostPort(field, m[1]);
  return url;
}

/** certSANs entries: IPs or DNS names (wildcards allowed as "*.example.com"). */
export function checkSan(field: string, san: string): string {
  const s = typeof san === 'string' ? san.trim() : '';
  if (!(isIP(s) || isDnsName(s.replace(/^\*\./, ''))))
    fail(field, `${JSON.stringify(san)} is not an IP address or DNS name`);
  return s;
}

/**
 * One preflight check, as kubeadm prints its name in "[ERROR <Name>]: ..." (cmd/kubeadm/app/preflight/checks.go):
 * letters, digits, '.', '_' and '-'. "all", which skips every check, is not one.
 */
export function isPreflightCheckName(name: string): boolean {
  return name.toLowerCase() !== 'all' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name);
}
