// Manual certificate distribution (kubeadm docs, "Creating Highly Available Clusters with kubeadm",
// Manual certificate distribution) and the CA hash (cmd/kubeadm/app/util/pubkeypin).
import type { KubeVersion } from './version';
import { CERT_KEY_RE } from './validate';

export interface SharedFile {
  /** Same path on the first control plane (source) and on the joining one (destination). */
  path: string;
  mode: number;
  secret: boolean;
}

const PKI = '/etc/kubernetes/pki';
const cert = (path: string): SharedFile => ({ path, mode: 0o644, secret: false });
const secret = (path: string): SharedFile => ({ path, mode: 0o600, secret: true });

/**
 * Files to copy from the first control plane to each joining one before `kubeadm join`, as that
 * page lists them. Only these: copying every certificate breaks the joining node's SANs.
 * - etcd/ca.key only with stacked etcd ("Skip ... if you are using external etcd").
 * - external etcd adds apiserver-etcd-client.crt/.key: the CP-join preflight checks them
 *   (ExternalEtcdClientCertificates) though the docs' script omits them.
 * - admin.conf, as the 1.13 HA page does. Later pages drop it because the join writes its own, but a
 *   copied one is harmless: kubeadm reuses an existing admin.conf whose CA and server match.
 */
export function sharedControlPlaneFiles(topology: 'stacked' | 'external', _v: KubeVersion): SharedFile[] {
  const files: SharedFile[] = [
    cert(`${PKI}/ca.crt`),
    secret(`${PKI}/ca.key`),
    secret(`${PKI}/sa.key`),
    cert(`${PKI}/sa.pub`),
    cert(`${PKI}/front-proxy-ca.crt`),
    secret(`${PKI}/front-proxy-ca.key`),
    cert(`${PKI}/etcd/ca.crt`),
  ];
  if (topology === 'stacked') files.push(secret(`${PKI}/etcd/ca.key`));
  else files.push(cert(`${PKI}/apiserver-etcd-client.crt`), secret(`${PKI}/apiserver-etcd-client.key`));
  files.push(secret('/etc/kubernetes/admin.conf'));
  return files;
}

/**
 * Prints the 64-hex SHA-256 of the CA's DER SubjectPublicKeyInfo (prepend "sha256:" for
 * --discovery-token-ca-cert-hash). `openssl pkey` works for RSA and ECDSA CAs alike (as pubkeypin hashes the SubjectPublicKeyInfo).
 */
export function caCertHashCommand(): string {
  return "openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.* //'";
}

/** "sha256:<hex>" from caCertHashCommand()'s stdout; throws if it is not 64 hex characters. */
export function parseCaCertHash(stdout: string): string {
  const hex = (stdout ?? '').trim().toLowerCase();
  if (!CERT_KEY_RE.test(hex)) {
    throw new Error(
      `CA public key hash: expected 64 hex characters from openssl, got ${JSON.stringify(hex.slice(0, 80))}`,
    );
  }
  return `sha256:${hex}`;
}
