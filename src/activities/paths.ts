// Where things live on a host: kubeadm's well-known files, and our own folder for the rendered
// configs (0700, root; the join config holds a token and is removed after each join).
export const STATE_DIR = '/var/lib/kubeadm-ha';
/** How our files are written there: the folder private to root when we create it. */
export const stateFile = (mode: number) => ({ mode, mkdirMode: 0o700 });
export const INIT_CONFIG = `${STATE_DIR}/kubeadm-config.yaml`;
export const JOIN_CONFIG = `${STATE_DIR}/join-config.yaml`;
export const CNI_MANIFEST = `${STATE_DIR}/cni.yaml`;
export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
export const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';
export const APISERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
export const KUBECTL = `kubectl --kubeconfig ${ADMIN_CONF}`;
