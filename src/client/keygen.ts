// `kubeadm-ha keygen --file PATH [--rotate]`: a key file made (mode 600) or given a new first key.
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
  const tmp = `${path}.new`;
  writeFileSync(tmp, `${line}\n${readFileSync(path, 'utf8')}`, { mode: 0o600 });
  renameSync(tmp, path);
  return `${path}: new payloads use key "${line.split(' ')[0]}"; the ${old.keys.size} older key(s) still decrypt`;
}
