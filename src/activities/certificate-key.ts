// The certificate key for `kubeadm init --upload-certs`: kubeadm-ha makes one (32 random bytes, hex,
// as `kubeadm certs certificate-key` prints) and passes it to kubeadm in the 0600 config file, never
// in argv. It lives in a 0600 file on the first control plane and in this worker's memory; the
// workflow only learns when the certificates were uploaded with it.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { HostSpec, SshSpec } from '../config/types';
import { CERTIFICATE_KEY_FILE, stateFile } from '../kubeadm/paths';
import { CERT_KEY_RE } from '../kubeadm/validate';
import { type Remote, withSessions } from './host-context';

const cache = new Map<string, string>();
const cacheKey = (host: HostSpec) => `${host.address}:${host.port}`;

/** The key on this control plane, made and stored there if it has none. */
export async function ensureCertificateKey(cp: Remote): Promise<string> {
  const present = (await cp.run(`test -f ${CERTIFICATE_KEY_FILE}`)).exitCode === 0;
  let key = present ? (await cp.session.readFile(CERTIFICATE_KEY_FILE)).toString('utf8').trim() : '';
  if (!CERT_KEY_RE.test(key)) {
    key = randomBytes(32).toString('hex');
    await cp.session.writeFile(CERTIFICATE_KEY_FILE, key, stateFile(0o600));
  }
  cache.set(cacheKey(cp.host), key);
  return key;
}

/** The key kept on `cp`, for a control-plane join. */
export async function certificateKey(ssh: SshSpec, cp: HostSpec): Promise<string> {
  const cached = cache.get(cacheKey(cp));
  if (cached) return cached;
  return withSessions(ssh, [cp], async (remote) => {
    const key = (await remote.session.readFile(CERTIFICATE_KEY_FILE)).toString('utf8').trim();
    if (!CERT_KEY_RE.test(key)) {
      throw ApplicationFailure.nonRetryable(
        `${cp.name}: ${CERTIFICATE_KEY_FILE} holds no certificate key; run the init with certificates: upload again`,
        'KubeadmMissingSharedCerts',
      );
    }
    cache.set(cacheKey(cp), key);
    return key;
  });
}
