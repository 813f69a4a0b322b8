// Extracts join commands from `kubeadm init` output and `kubeadm token create --print-join-command`,
// every era: kubeadm cmd/kubeadm/app/cmd/util/join.go (the template), cmd/kubeadm/app/cmd/init.go
// (the init epilogue of each version), cmd/kubeadm/app/cmd/token.go (--print-join-command).
import { CA_HASH_RE, CERT_KEY_RE, TOKEN_RE, checkHostPort } from './validate';

export interface JoinCommand {
  /** "host:port" (IPv6 as "[addr]:port"). */
  endpoint: string;
  token: string;
  caCertHashes: string[];
  /** --control-plane (1.15+) or --experimental-control-plane (1.13-1.14). */
  controlPlane: boolean;
  certificateKey?: string;
}

const WITHHELD = '<value withheld>';
const WITHHELD_WORD = '\u0000withheld\u0000';

function isEndpoint(s: string): boolean {
  try {
    checkHostPort('endpoint', s);
    return true;
  } catch {
    return false;
  }
}

function parseOne(words: string[]): JoinCommand | undefined {
  let endpoint: string | undefined;
  let token: string | undefined;
  let certificateKey: string | undefined;
  let controlPlane = false;
  const caCertHashes: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.startsWith('--')) {
      // 1.9-1.11 put --token first: the endpoint is the first non-flag argument.
      if (endpoint === undefined && isEndpoint(w)) endpoint = w;
      continue;
    }
    const eq = w.indexOf('=');
    const name = eq >= 0 ? w.slice(0, eq) : w;
    const takesValue = name === '--token' || name === '--discovery-token-ca-cert-hash' || name === '--certificate-key';
    let value: string | undefined;
    if (eq >= 0) value = w.slice(eq + 1);
    else if (takesValue) value = words[++i];
    if (name === '--control-plane' || name === '--experimental-control-plane') controlPlane = true;
    if (value === undefined || value === WITHHELD_WORD) continue;
    if (name === '--token' && TOKEN_RE.test(value)) token = value;
    if (name === '--discovery-token-ca-cert-hash' && CA_HASH_RE.test(value) && !caCertHashes.includes(value)) caCertHashes.push(value);
    if (name === '--certificate-key' && CERT_KEY_RE.test(value)) certificateKey = value;
  }
  // A command without endpoint or usable token (e.g. "<value withheld>") cannot be run: skip it.
  if (endpoint === undefined || token === undefined) return undefined;
  const cmd: JoinCommand = { endpoint, token, caCertHashes, controlPlane };
  if (certificateKey !== undefined) cmd.certificateKey = certificateKey;
  return cmd;
}

/**
 * All distinct join commands in order of appearance. The init epilogue repeats once per bootstrap
 * token, so identical commands are reported once.
 */
export function parseJoinCommands(output: string): JoinCommand[] {
  const text = (output ?? '')
    .replace(/\r\n?/g, '\n')
    .split(WITHHELD)
    .join(` ${WITHHELD_WORD} `)
    // Continuations: 4 spaces (1.14-1.20) or TAB (1.21+) after "\<newline>".
    .replace(/\\\n/g, ' ');
  const seen = new Set<string>();
  const out: JoinCommand[] = [];
  for (const line of text.split('\n')) {
    const at = line.search(/\bkubeadm\s+join\s/);
    if (at < 0) continue;
    const words = line.slice(at).trim().split(/\s+/).slice(2);
    const cmd = parseOne(words);
    if (!cmd) continue;
    const key = JSON.stringify(cmd);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(cmd);
  }
  return out;
}

/**
 * The key printed on the line after "[upload-certs] Using certificate key:", if shown
 * (not with --skip-certificate-key-print). With several uploads the last one wins: each upload
 * without --certificate-key invalidates the previous key.
 */
export function parseCertificateKey(output: string): string | undefined {
  const lines = (output ?? '').replace(/\r\n?/g, '\n').split('\n');
  let found: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const m = /\[upload-certs\] Using certificate key:\s*(\S*)\s*$/.exec(lines[i]);
    if (!m) continue;
    const candidate = m[1] !== '' ? m[1] : (lines.slice(i + 1).find((l) => l.trim() !== '') ?? '').trim();
    if (CERT_KEY_RE.test(candidate)) found = candidate;
  }
  return found;
}
