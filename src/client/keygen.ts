// `kubeadm-ha keygen --file PATH [--rotate]`: a key file made (mode 600) or given a new first key.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ensureKeyFile, loadKeyFile, newKeyLine } from '../codec/keys';

export function keygen(path: string, rotate: boolean): string {
  if (!existsSync(path)) {
    ensureKeyFile(path);
    return `created ${path} (mode 600) with key "${loadKeyFile(path).encryptKeyId}"; export KUBEADM_HA_CODEC_KEY_FILE=${path}`;
  }
  const old = loadKeyFile(path); // refuses a bad or world-readable file before touching it
  if (!rotate) return `${path} exists (encrypting with key "${old.encryptKeyId}"); --rotate adds a new first key`;
  const line = newKeyLine();
  // A new name, created exclusively: a file or symlink planted beside the key is never followed.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.new`;
  writeFileSync(tmp, `${line}\n${readFileSync(path, 'utf8')}`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
  return `${path}: new payloads use key "${line.split(' ')[0]}"; the ${old.keys.size} older key(s) still decrypt`;
}
