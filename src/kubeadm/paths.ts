// Where things live on a host: kubeadm's well-known files, and our own folder for rendered configs,
// staged certificates and join tokens (0700, root; a join config holds a token and is removed
// after its join). Reference: kubeadm cmd/kubeadm/app/constants/constants.go.
export const STATE_DIR = '/var/lib/kubeadm-ha';
/** How our files are written there: the folder private to root when we create it. */
export const stateFile = (mode: number) => ({ mode, mkdirMode: 0o700 });
export const INIT_CONFIG = `${STATE_DIR}/kubeadm-config.yaml`;
export const joinConfigPath = (stepId: string) => `${STATE_DIR}/join-config.${stepId}.yaml`;
/** The UpgradeConfiguration of `kubeadm upgrade apply --config` (kubeadm 1.31+); it holds no secret. */
export const UPGRADE_CONFIG = `${STATE_DIR}/upgrade-config.yaml`;
export const CNI_MANIFEST = `${STATE_DIR}/cni.yaml`;
export const stageDir = (stepId: string) => `${STATE_DIR}/stage/${stepId}`;
export const tokenFile = (id: string) => `${STATE_DIR}/tokens/${id}`;
export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
export const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';
export const BOOTSTRAP_KUBELET_CONF = '/etc/kubernetes/bootstrap-kubelet.conf';
export const MANIFESTS_DIR = '/etc/kubernetes/manifests';
export const ETCD_DATA = '/var/lib/etcd/member';
export const CA_CERT = '/etc/kubernetes/pki/ca.crt';
export const KUBECTL = `kubectl --kubeconfig ${ADMIN_CONF}`;
/** The certificate key of `--upload-certs`, kept 0600 on the first control plane for the control-plane joins. */
export const CERTIFICATE_KEY_FILE = `${STATE_DIR}/certificate-key`;
