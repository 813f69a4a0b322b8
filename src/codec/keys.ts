// Where the payload keys come from: KUBEADM_HA_CODEC_KEY_FILE (lines "<key-id> <base64 of 32 bytes>";
// the first line encrypts, every line decrypts, so a new key goes on top and old ones stay below
// until no history needs them), or KUBEADM_HA_CODEC_KEY ("<key-id>:<base64>") for a single key.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const KEY_FILE_ENV = 'KUBEADM_HA_CODEC_KEY_FILE';
export const KEY_ENV = 'KUBEADM_HA_CODEC_KEY';
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class CodecKeyError extends Error {}

export interface CodecKeys {
  /** Key id → 32-byte AES-256 key. */
  keys: Map<string, Buffer>;
  /** The key new payloads are encrypted with; undefined when no key is configured (payloads stay plain). */
  encryptKeyId?: string;
  /** Where the keys came from, for start-up messages. */
  source: string;
}

function parseKey(id: string, b64: string, where: string): Buffer {
  if (!KEY_ID.test(id))
    throw new CodecKeyError(`${where}: key id "${id}" must be 1-64 letters, digits, '.', '_' or '-'`);
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32 || key.toString('base64') !== b64) {
    throw new CodecKeyError(
      `${where}: key "${id}" must be the base64 of 32 random bytes (got ${key.length} bytes); make one with: kubeadm-ha keygen`,
    );
  }
  return key;
}

export function loadKeyFile(path: string): CodecKeys {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new CodecKeyError(
      `${KEY_FILE_ENV}=${path}: cannot read the key file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (mode & 0o077) {
    throw new CodecKeyError(
      `${KEY_FILE_ENV}=${path}: the key file is readable by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
  const keys = new Map<string, Buffer>();
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const where = `${path}:${i + 1}`;
      const fields = line.split(/\s+/);
      if (fields.length !== 2)
        throw new CodecKeyError(`${where}: expected "<key-id> <base64 key>", got ${fields.length} field(s)`);
      if (keys.has(fields[0])) throw new CodecKeyError(`${where}: key id "${fields[0]}" appears twice`);
      keys.set(fields[0], parseKey(fields[0], fields[1], where));
    });
  if (keys.size === 0)
    throw new CodecKeyError(
      `${KEY_FILE_ENV}=${path}: the key file has no key; add one with: kubeadm-ha keygen >> ${path}`,
    );
  return { keys, encryptKeyId: keys.keys().next().value, source: `key file ${path}` };
}

/** The keys the environment names; none configured is allowed (payloads then stay plain) and said by {@link codecNotice}. */
export function loadCodecKeys(env: NodeJS.ProcessEnv = process.env): CodecKeys {
  const file = env[KEY_FILE_ENV];
  const inline = env[KEY_ENV];
  if (file && inline) throw new CodecKeyError(`both ${KEY_FILE_ENV} and ${KEY_ENV} are set; set only one`);
  if (file) return loadKeyFile(file);
  if (inline) {
    const at = inline.indexOf(':');
    if (at < 0) throw new CodecKeyError(`${KEY_ENV} must be "<key-id>:<base64 key>"`);
    const id = inline.slice(0, at);
    return { keys: new Map([[id, parseKey(id, inline.slice(at + 1), KEY_ENV)]]), encryptKeyId: id, source: KEY_ENV };
  }
  return { keys: new Map(), source: 'none' };
}

/** One line for worker and CLI start-up: which key encrypts, or that nothing does. */
export function codecNotice(k: CodecKeys): string {
  if (!k.encryptKeyId) {
    return (
      `payload encryption is OFF: no key configured (set ${KEY_FILE_ENV} or ${KEY_ENV}; make a key with: kubeadm-ha keygen); ` +
      'workflow inputs, results and failure messages are stored in plain text'
    );
  }
  return `payloads encrypted with key "${k.encryptKeyId}" (${k.keys.size} key(s) from ${k.source})`;
}

/** A new key line for a key file: "<key-id> <base64>". The id is the date plus random hex. */
export function newKeyLine(now = new Date()): string {
  const id = `k${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
  return `${id} ${randomBytes(32).toString('base64')}`;
}

/**
 * Creates a key file with one new key (mode 600) unless it exists; returns the path. For the demo and
 * tests: written aside and linked into place, so processes starting together all read one whole key.
 */
export function ensureKeyFile(path: string): string {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true }); // a clean clone has no .run yet (the file itself is 0600)
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${newKeyLine()}\n`, { mode: 0o600, flag: 'wx' }); // never through a planted symlink
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return path;
}
