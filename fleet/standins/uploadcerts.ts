// kubeadm-certs Secret: shared control-plane certificates encrypted with the certificate key
// (AES-256-GCM, nonce|ciphertext|tag like Go's gcm.Seal), valid two hours.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { CertsSecret } from './state';

const PKI = '/etc/kubernetes/pki';
export const TWO_HOURS = 2 * 3600e3;

export function randomKey(): string {
  return crypto.randomBytes(32).toString('hex');
}

function files(external: boolean): Array<[string, string]> {
  const base: Array<[string, string]> = [
    ['ca.crt', `${PKI}/ca.crt`],
    ['ca.key', `${PKI}/ca.key`],
    ['front-proxy-ca.crt', `${PKI}/front-proxy-ca.crt`],
    ['front-proxy-ca.key', `${PKI}/front-proxy-ca.key`],
    ['sa.pub', `${PKI}/sa.pub`],
    ['sa.key', `${PKI}/sa.key`],
  ];
  return external
    ? [
        ...base,
        ['external-etcd-ca.crt', `${PKI}/etcd/ca.crt`],
        ['external-etcd.crt', `${PKI}/apiserver-etcd-client.crt`],
        ['external-etcd.key', `${PKI}/apiserver-etcd-client.key`],
      ]
    : [...base, ['etcd-ca.crt', `${PKI}/etcd/ca.crt`], ['etcd-ca.key', `${PKI}/etcd/ca.key`]];
}

export function encryptCerts(keyHex: string, external: boolean): CertsSecret {
  const key = Buffer.from(keyHex, 'hex');
  const data: Record<string, string> = {};
  for (const [name, path] of files(external)) {
    const plain = fs.existsSync(path) ? fs.readFileSync(path) : Buffer.alloc(0);
    const nonce = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
    const enc = Buffer.concat([c.update(plain), c.final()]);
    data[name] = Buffer.concat([nonce, enc, c.getAuthTag()]).toString('base64');
  }
  return { data, expires: Date.now() + TWO_HOURS };
}

/** Throws Error('cipher: message authentication failed') on a wrong key, like Go. */
export function decryptCerts(keyHex: string, secret: CertsSecret): Array<[string, Buffer]> {
  const key = Buffer.from(keyHex, 'hex');
  const out: Array<[string, Buffer]> = [];
  for (const [name, path] of files('external-etcd-ca.crt' in secret.data)) {
    const raw = secret.data[name];
    if (raw === undefined)
      throw new Error(`the Secret does not include the required certificate or key - name: ${name}, path: ${path}`);
    const buf = Buffer.from(raw, 'base64');
    try {
      const d = crypto.createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(buf.length - 16));
      out.push([path, Buffer.concat([d.update(buf.subarray(12, buf.length - 16)), d.final()])]);
    } catch {
      throw new Error('error decoding secret data with provided key: cipher: message authentication failed');
    }
  }
  return out;
}
