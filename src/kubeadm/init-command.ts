// `kubeadm init` is the one command that makes a new cluster: a new CA, and with stacked etcd a new
// etcd. On a host that already holds a CA together with etcd data or a kubelet.conf (a cluster was
// initialised there), it never runs, whatever inspection concluded: checked on the host, under the
// host lock, right before kubeadm starts. The way back to init is a reset the operator approved.
import { CA_CERT, ETCD_DATA, KUBELET_CONF } from './paths';

/** The exit code of the refusal, which no kubeadm failure uses (kubeadm exits 1). */
export const SECOND_CLUSTER_EXIT = 97;

export function guardedInitCommand(init: string): string {
  return [
    `if [ -e ${CA_CERT} ] && { [ -e ${ETCD_DATA} ] || [ -e ${KUBELET_CONF} ]; }; then`,
    `echo "refusing kubeadm init: ${CA_CERT} and $( [ -e ${ETCD_DATA} ] && echo ${ETCD_DATA} || echo ${KUBELET_CONF} ) are here: a cluster was initialised on this host" >&2;`,
    `exit ${SECOND_CLUSTER_EXIT}; fi;`,
    `exec ${init}`,
  ].join(' ');
}
