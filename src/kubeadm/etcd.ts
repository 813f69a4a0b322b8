// Stacked etcd membership, read the way operators do on a kubeadm cluster: etcdctl inside a
// control plane's etcd static pod, with the healthcheck-client certificate kubeadm creates
// (kubeadm docs, "Operating etcd clusters for Kubernetes": member list / member remove).
import { shellQuote } from '../common/shell-quote';

export interface EtcdMember {
  /** 16-hex member ID, as etcdctl's simple output prints it. */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  started: boolean;
  learner: boolean;
}

const ETCDCTL_TLS = [
  '--endpoints=https://127.0.0.1:2379',
  '--cacert=/etc/kubernetes/pki/etcd/ca.crt',
  '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt',
  '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
];

/** `kubectl exec` into etcd-<node> to run etcdctl there; `kubectl` is the caller's kubectl with its kubeconfig. */
export function etcdctlCommand(kubectl: string, podNode: string, args: string[]): string {
  return `${kubectl} -n kube-system exec ${shellQuote(`etcd-${podNode}`)} -- etcdctl ${ETCDCTL_TLS.join(' ')} ${args.map(shellQuote).join(' ')}`;
}

/**
 * etcdctl `member list` simple format: "ID, STATUS, NAME, PEER ADDRS, CLIENT ADDRS, IS LEARNER",
 * one member per line; an unstarted member has an empty name and no client URLs.
 */
export function parseMemberList(stdout: string): EtcdMember[] {
  const members: EtcdMember[] = [];
  for (const line of (stdout ?? '').split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < 5 || !/^[0-9a-f]{1,16}$/.test(cells[0])) continue;
    const urls = (s: string) => s.split(/\s+/).filter((u) => /^https?:\/\//.test(u));
    members.push({
      id: cells[0], started: cells[1] === 'started', name: cells[2],
      peerURLs: urls(cells[3]), clientURLs: urls(cells[4]), learner: cells[5] === 'true',
    });
  }
  return members;
}

/** The member that belongs to a node: by name, or by its peer address (a member added but never started has no name). */
export function memberOf(members: EtcdMember[], node: { name: string; address: string }): EtcdMember | undefined {
  const host = node.address.includes(':') ? `[${node.address}]` : node.address;
  return members.find((m) => m.name === node.name) ?? members.find((m) => m.peerURLs.some((u) => u.startsWith(`https://${host}:`)));
}
