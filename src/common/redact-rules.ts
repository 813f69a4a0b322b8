// Second line of defence: every log line, error message and heartbeat detail passes through
// redact() before it is persisted, and journaled output passes through the same rules on the host
// (REDACT_SED, run by GNU sed). The first line is to keep secrets out of argv (use stdin or 0600 files).
//
// One table, two engines. RULES are written once in the common subset of POSIX ERE (GNU sed -E,
// https://www.gnu.org/software/sed/manual/html_node/ERE-syntax.html) and JavaScript regular
// expressions: bracket expressions, [[:space:]], groups, alternation, {m,n}, ^ and $ per line, and
// \b; no lookaround, no lazy quantifiers, no back-references in patterns. Every alternation is
// unambiguous, so POSIX leftmost-longest and JavaScript leftmost-first matching agree. toJs()
// translates a rule for JavaScript, sedScript() writes the sed program; both apply the rules to one
// line at a time, after the PEM block state machine, in table order.
//
// Masked: PEM private key blocks (every body line), base64 of a PEM private key anywhere, *-key-data
// and *.key values, bootstrap tokens, certificate keys (after --certificate-key, certificateKey: and
// any standalone 64 hex, as kubeadm prints it after "[upload-certs] Using certificate key:"),
// --token/--password/--secret style flag values, token/password/secret keys, Bearer tokens and URL
// passwords. Not masked, because they are public and needed to debug a join: CA cert hashes
// (sha256:<hex>), image digests (@sha256:<hex>) and certificates (BEGIN CERTIFICATE).

export const MASK = '***';

/** Private key PEM kinds (RFC 7468 "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"; OpenSSL RSA/EC/DSA; OpenSSH). */
export const PEM_KINDS = ['', 'RSA ', 'EC ', 'DSA ', 'OPENSSH ', 'ENCRYPTED '];
// Any kind: also unusual ones like "ANY PRIVATE KEY"; never CERTIFICATE or PUBLIC KEY.
export const PEM_BEGIN = '-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----';
export const PEM_END = '-----END [A-Z0-9 ]*PRIVATE KEY-----';

export interface Rule {
  name: string;
  pattern: string;
  replace: string;
  example: string;
}

// Base64 of "-----BEGIN <kind>PRIVATE KEY": the header sits at offset 0 of the blob, so its encoding
// is fixed up to the last whole 3-byte group (RFC 4648 section 4).
const PEM_B64_PREFIXES = [
  ...new Set(
    PEM_KINDS.map((k) => {
      const header = `-----BEGIN ${k}PRIVATE KEY`;
      return Buffer.from(header.slice(0, header.length - (header.length % 3))).toString('base64');
    }),
  ),
];

/** ERE whitespace, for the rules and the sed engine. */
export const S = '[[:space:]]';
// A flag value never starts with "-" (the next flag), a backslash (a line continuation) or "<" (kubeadm's "<value withheld>").
const VALUE_BARE = `[^-<\\\\[:space:]"',}][^[:space:]"',}]*`;
// Keys whose value is secret, matched whole (YAML, JSON, env, ini): token, tlsBootstrapToken,
// ETCD_PASSWORD, client-secret, certificateKey, certificate-key.
const SECRET_KEY =
  '[A-Za-z0-9_-]*([Tt]oken|TOKEN|[Pp]assword|PASSWORD|[Pp]asswd|PASSWD|[Ss]ecret|SECRET)|[Cc]ertificate[Kk]ey|certificate-key';
// Keys whose value is key material when it is base64: kubeconfig client-key-data, Secret tls.key, ca.key.
const KEY_DATA_KEY = '[A-Za-z0-9_-]*-key-data|[A-Za-z0-9_-]*\\.key|key';
const KEY_PREFIX = `(^|[^A-Za-z0-9_.-])(["']?)`;
const SEP = `(["']?[ \\t]*[:=][ \\t]*)`;

export const RULES: Rule[] = [
  {
    name: 'base64 of a PEM private key, anywhere',
    pattern: `(${PEM_B64_PREFIXES.join('|')})[A-Za-z0-9+/]*={0,2}`,
    replace: MASK,
    example: 'tls.key: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo= -> tls.key: ***',
  },
  {
    name: 'base64 value of a key-data key',
    pattern: `${KEY_PREFIX}(${KEY_DATA_KEY})${SEP}"?[A-Za-z0-9+/]{16,}={0,2}"?`,
    replace: `\\1\\2\\3\\4${MASK}`,
    example: 'client-key-data: MIIEowIBAAKCAQEAx9... -> client-key-data: ***',
  },
  {
    name: 'flag value: --token, --tls-bootstrap-token, --certificate-key, --password, --client-secret',
    pattern: `(^|[[:space:]"'(=])(--?([A-Za-z0-9]+-)*([Tt]oken|certificate-key|[Pp]assword|[Pp]asswd|[Ss]ecret))(=|${S}+)("[^"]*"|'[^']*'|${VALUE_BARE})`,
    replace: `\\1\\2\\5${MASK}`,
    example: 'kubeadm join x --token abcdef.0123456789abcdef -> kubeadm join x --token ***',
  },
  {
    name: 'double-quoted value of a secret key',
    pattern: `${KEY_PREFIX}(${SECRET_KEY})${SEP}"[^"]*"`,
    replace: `\\1\\2\\3\\5"${MASK}"`,
    example: '"password": "p@ss" -> "password": "***"',
  },
  {
    name: 'single-quoted value of a secret key',
    pattern: `${KEY_PREFIX}(${SECRET_KEY})${SEP}'[^']*'`,
    replace: `\\1\\2\\3\\5'${MASK}'`,
    example: "certificateKey: 'f9ea...' -> certificateKey: '***'",
  },
  {
    name: 'bare value of a secret key',
    pattern: `${KEY_PREFIX}(${SECRET_KEY})${SEP}[^[:space:]"',}]+`,
    replace: `\\1\\2\\3\\5${MASK}`,
    example: '[bootstrap-token] Using token: 38tjlt.ibkwbtflmj6w8qmg -> ... Using token: ***',
  },
  {
    name: 'bootstrap token [a-z0-9]{6}.[a-z0-9]{16}',
    pattern: '\\b[a-z0-9]{6}\\.[a-z0-9]{16}\\b',
    replace: MASK,
    example: 'token 38tjlt.ibkwbtflmj6w8qmg. -> token ***.',
  },
  // A standalone 64-hex string is a certificate key (kubeadm prints it alone on the line after
  // "[upload-certs] Using certificate key:", and `kubeadm certs certificate-key` prints just it), unless
  // it follows "sha256:" (CA cert hashes, image digests and IDs: public) or sits in a path or URL
  // (container IDs in /run/containerd/..., containerd://<id>).
  {
    name: 'standalone 64-hex certificate key; not sha256:<hex>, not in a path',
    pattern: '(^|[^0-9A-Za-z_:/.-])[0-9a-fA-F]{64}\\b',
    replace: `\\1${MASK}`,
    example: 'f9ea00c50ef12a386949dfb84b3abb2aa1053cc84f3792cd4b8aa6cc42c1fd57 -> ***',
  },
  {
    name: 'Bearer token',
    pattern: '(Bearer[ \\t]+)[A-Za-z0-9._~+/-]+=*',
    replace: `\\1${MASK}`,
    example: 'Authorization: Bearer eyJ... -> Authorization: Bearer ***',
  },
  {
    name: 'password in a URL',
    pattern: '(://[^/[:space:]:@]+:)[^/[:space:]@]+@',
    replace: `\\1${MASK}@`,
    example: 'https://u:pw@h/ -> https://u:***@h/',
  },
];
