// Real certificates with openssl (RSA 2048 keys like kubeadm's default), and the CA pin hash.
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function genKey(file: string): Promise<void> {
  const { privateKey } = await promisify(crypto.generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, privateKey, { mode: 0o600 });
}

export async function createCA(dir: string, base: string, cn: string): Promise<void> {
  await genKey(`${dir}/${base}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    `${dir}/${base}.key`,
    '-subj',
    `/CN=${cn}`,
    '-days',
    '3650',
    '-out',
    `${dir}/${base}.crt`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
  ]);
}

export interface CertSpec {
  /** e.g. "/O=system:masters/CN=kube-apiserver-kubelet-client" */
  subject: string;
  usage: 'server' | 'client' | 'both';
  dns?: string[];
  ips?: string[];
}

/** Key + certificate signed by caBase (<pki>/<caBase>.crt/.key). */
export async function createCert(pkiDir: string, caBase: string, base: string, spec: CertSpec): Promise<void> {
  await genKey(`${pkiDir}/${base}.key`);
  const eku = spec.usage === 'server' ? 'serverAuth' : spec.usage === 'client' ? 'clientAuth' : 'serverAuth,clientAuth';
  const args = [
    'req',
    '-x509',
    '-new',
    '-key',
    `${pkiDir}/${base}.key`,
    '-subj',
    spec.subject,
    '-days',
    '365',
    '-CA',
    `${pkiDir}/${caBase}.crt`,
    '-CAkey',
    `${pkiDir}/${caBase}.key`,
    '-out',
    `${pkiDir}/${base}.crt`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext',
    `extendedKeyUsage=${eku}`,
  ];
  const sans = [...(spec.dns ?? []).map((d) => `DNS:${d}`), ...(spec.ips ?? []).map((i) => `IP:${i}`)];
  if (sans.length) args.push('-addext', `subjectAltName=${sans.join(',')}`);
  await run('openssl', args);
}

/** Signs a PEM CSR with the given CA (the stand-in csrsigner of the controller-manager). */
export async function signCSR(
  caCrt: string,
  caKey: string,
  csrPem: string,
  usage: 'client' | 'server',
): Promise<string> {
  const tmp = fs.mkdtempSync('/tmp/fleet-csr-');
  try {
    fs.writeFileSync(`${tmp}/req.csr`, csrPem);
    fs.writeFileSync(
      `${tmp}/ext`,
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}Auth\n`,
    );
    const { stdout } = await run('openssl', [
      'x509',
      '-req',
      '-in',
      `${tmp}/req.csr`,
      '-CA',
      caCrt,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-CAserial',
      `${tmp}/serial`,
      '-days',
      '365',
      '-extfile',
      `${tmp}/ext`,
    ]);
    return stdout;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function createCSR(keyFile: string, subject: string): Promise<string> {
  await genKey(keyFile);
  const { stdout } = await run('openssl', ['req', '-new', '-key', keyFile, '-subj', subject]);
  return stdout;
}

/** sha256 over the DER SubjectPublicKeyInfo, as pubkeypin.Hash. */
export function caCertHash(pem: string): string {
  const der = new crypto.X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return 'sha256:' + crypto.createHash('sha256').update(der).digest('hex');
}

export async function generateSAKeys(pkiDir: string): Promise<void> {
  await genKey(`${pkiDir}/sa.key`);
  const pub = crypto.createPublicKey(fs.readFileSync(`${pkiDir}/sa.key`)).export({ type: 'spki', format: 'pem' });
  fs.writeFileSync(`${pkiDir}/sa.pub`, pub);
}
