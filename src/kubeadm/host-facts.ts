// What kubeadm has done on a host, read in one command: hostname, kubeadm version, kubeadm's
// files (kubeconfigs, static-pod manifests, etcd data) and whether a journaled step holds the host.
import type { NodeFiles } from './node-state';
import { ADMIN_CONF, BOOTSTRAP_KUBELET_CONF, CA_CERT, ETCD_DATA, KUBELET_CONF, MANIFESTS_DIR } from './paths';

export const STATIC_PODS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'];

export interface HostFactsReport {
  hostname: string;
  kubeadmVersion: string;
  /** etcdctl on PATH (an external etcd member's health is checked with it). */
  etcdctl: boolean;
  files: NodeFiles;
}

/** Prints `key=value` lines; `kubeadm version` failing leaves the version empty. */
export function hostFactsCommand(): string {
  const file = (key: string, path: string) => `[ -e ${path} ] && echo ${key}=1`;
  return [
    'echo hostname=$(hostname)',
    'echo kubeadm=$(kubeadm version -o short 2>/dev/null)',
    'command -v etcdctl >/dev/null && echo etcdctl=1',
    file('adminConf', ADMIN_CONF),
    file('kubeletConf', KUBELET_CONF),
    file('bootstrapKubeletConf', BOOTSTRAP_KUBELET_CONF),
    file('etcdData', ETCD_DATA),
    file('caCert', CA_CERT),
    ...STATIC_PODS.map((m) => file(`manifest.${m}`, `${MANIFESTS_DIR}/${m}.yaml`)),
    'true',
  ].join('; ');
}

export function parseHostFacts(stdout: string): HostFactsReport {
  const kv = new Map<string, string>();
  for (const line of (stdout ?? '').split('\n')) {
    const m = /^([A-Za-z.-]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1], m[2].trim());
  }
  return {
    hostname: kv.get('hostname') ?? '',
    kubeadmVersion: kv.get('kubeadm') ?? '',
    etcdctl: kv.has('etcdctl'),
    files: {
      adminConf: kv.has('adminConf'),
      kubeletConf: kv.has('kubeletConf'),
      bootstrapKubeletConf: kv.has('bootstrapKubeletConf'),
      etcdData: kv.has('etcdData'),
      caCert: kv.has('caCert'),
      manifests: STATIC_PODS.filter((m) => kv.has(`manifest.${m}`)),
    },
  };
}
