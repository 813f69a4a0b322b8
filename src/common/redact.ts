// Second line of defence: every log line, error message and heartbeat detail passes through
// redact() before it is persisted. The first line is to keep secrets out of argv (use stdin).

const MASK = '***';

// PEM private keys, including a BEGIN without END (output cut off or chunked).
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;

// "[upload-certs] Using certificate key:" is followed by the key on the next line.
const UPLOAD_CERTS_KEY = /(\[upload-certs\] Using certificate key:[ \t]*\r?\n[ \t]*)\S+/g;

// Flag values: --token X, --certificate-key=X, --discovery-token-ca-cert-hash X, --password X,
// --tls-bootstrap-token X, --client-secret X ... Whitespace stays on one line so a trailing
// backslash continuation is never eaten, and a following flag (-x) is never taken as the value.
// Flags start after whitespace/quote, and name parts are bounded: unbounded `[a-z-]*` around the
// keyword made long dash-heavy output quadratic (seconds for 256 KiB).
const FLAG_VALUE =
  /(?<=^|[\s"'(=])(--?[A-Za-z0-9-]{0,40}?(?:token|certificate-key|ca-cert-hash|password|passwd|secret)[A-Za-z0-9-]{0,40})(=|[ \t]+)(?!-)(?!\\(?:\s|$))("[^"]*"|'[^']*'|\S+)/gi;

// YAML / JSON keys: token: "x", certificateKey: x, "password": "x", tlsBootstrapToken: 'x'.
const KEY_VALUE =
  /(^|[\s{,-])(["']?)([A-Za-z_]{0,40}(?:[Tt]oken|TOKEN|[Cc]ertificate[Kk]ey|[Pp]assword|PASSWORD|[Ss]ecret|SECRET))\2([ \t]*[:=][ \t]*)("[^"\r\n]*"|'[^'\r\n]*'|[^\s,}"']+)/gm;

// kubeadm bootstrap token: [a-z0-9]{6}.[a-z0-9]{16}
const BOOTSTRAP_TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;

// Any standalone 64-hex string (certificate keys, CA cert hashes).
const HEX64 = /(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])/g;

const BEARER = /\b(Bearer[ \t]+)[A-Za-z0-9._~+/-]+=*/g;

export function redact(text: string): string {
  if (!text) return text;
  return text
    .replace(PEM_BLOCK, (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----${MASK}-----END ${kind}PRIVATE KEY-----`)
    .replace(UPLOAD_CERTS_KEY, `$1${MASK}`)
    .replace(FLAG_VALUE, `$1$2${MASK}`)
    .replace(KEY_VALUE, (_m, pre: string, q: string, key: string, sep: string, value: string) => {
      const quote = value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
      return `${pre}${q}${key}${q}${sep}${quote}${MASK}${quote}`;
    })
    .replace(BOOTSTRAP_TOKEN, MASK)
    .replace(HEX64, MASK)
    .replace(BEARER, `$1${MASK}`);
}
