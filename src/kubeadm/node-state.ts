// Whether kubeadm's work on a node is done, decided from the node's files and the cluster's own
// view (Nodes and their roles, etcd members), never from one file: a join that failed after
// kubelet-start leaves kubelet.conf behind but no control plane. Reference: kubeadm
// cmd/kubeadm/app/cmd/phases/join (kubelet-start precedes control-plane-join/etcd and
// mark-control-plane) and cmd/kubeadm/app/cmd/phases/reset (what reset removes).
//
// Four answers, not two: a fact that could not be read (no API server answered, the etcd member
// list could not be read) makes the node **unknown**, never half-done. And a half-done node says
// what ties it to a live cluster (a registered Node, an etcd member, being the first control plane):
// such a node is reset only when an operator says so.
import type { NodeRow } from './kubectl';
import { type EtcdMember, memberOf } from './etcd';

/** kubeadm's files on a node, as the host inspection reports them. */
export interface NodeFiles {
  adminConf: boolean;
  kubeletConf: boolean;
  bootstrapKubeletConf: boolean;
  /** Static-pod manifests present, by component: kube-apiserver, kube-controller-manager, kube-scheduler, etcd. */
  manifests: string[];
  /** /var/lib/etcd/member exists (a local etcd member's data). */
  etcdData: boolean;
  /** /etc/kubernetes/pki/ca.crt exists (absent in facts gathered before it was read). */
  caCert?: boolean;
}

/** A fact that could not be established: which, by what command, and how that failed. */
export interface UnknownFact {
  fact: string;
  command: string;
  exitCode: number | null;
  error: string;
}

/** The cluster as its API server reports it. */
export interface ClusterView {
  nodes: NodeRow[];
  /** Stacked etcd only. */
  etcdMembers?: EtcdMember[];
  /** Stacked etcd only: why the member list could not be read. */
  etcdUnknown?: UnknownFact;
}

/** What inspection knows of the cluster: its view, or why no API server could be asked or answered. */
export type ClusterKnowledge = ClusterView | { unknown: UnknownFact };

export type NodeState =
  | { state: 'clean' }
  | { state: 'joined'; detail: string }
  /**
   * `live`: what ties the node to a live cluster (then only an operator may reset it); `removes`:
   * what a reset takes away.
   */
  | { state: 'half-done'; detail: string; live: string[]; removes: string[] }
  | { state: 'unknown'; detail: string; unknown: UnknownFact };

export const CONTROL_PLANE_MANIFESTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

export const isControlPlaneRow = (n: NodeRow): boolean =>
  n.roles.includes('control-plane') || n.roles.includes('master');

/**
 * What kubeadm's init or join left on a node (kubelet kubeconfigs, static-pod manifests, etcd data).
 * admin.conf is not in it: the certificate copy puts one on a control plane before its join.
 */
export function leftovers(f: NodeFiles): string[] {
  return [
    ...(f.kubeletConf ? ['kubelet.conf'] : []),
    ...(f.bootstrapKubeletConf ? ['bootstrap-kubelet.conf'] : []),
    ...f.manifests.map((m) => `${m}.yaml`),
    ...(f.etcdData ? ['/var/lib/etcd/member'] : []),
  ];
}

/** One line for an unknown fact, as status and a park show it. */
export function describeUnknown(u: UnknownFact): string {
  return `${u.fact} could not be established: \`${u.command}\` ${u.exitCode === null ? 'did not finish' : `exited ${u.exitCode}`}: ${u.error}`;
}

function unknown(what: string, u: UnknownFact): NodeState {
  return { state: 'unknown', detail: `${what}; ${describeUnknown(u)}`, unknown: u };
}

function halfDone(present: string, missing: string[], live: string[], removes: string[]): NodeState {
  return { state: 'half-done', detail: `${present} but ${missing.join('; ')}`, live, removes };
}

/** A worker is joined when its Node is registered; files without a Node are a half-done join. */
export function workerState(f: NodeFiles, cluster: ClusterKnowledge, name: string): NodeState {
  const files = leftovers(f);
  if (files.length === 0) return { state: 'clean' };
  if ('unknown' in cluster) return unknown(`${files.join(', ')} present`, cluster.unknown);
  const node = cluster.nodes.find((n) => n.name === name);
  if (node && f.kubeletConf)
    return { state: 'joined', detail: `Node ${name} is registered${node.ready ? ' and Ready' : ' (NotReady)'}` };
  if (node)
    return halfDone(`${files.join(', ')} present`, ['kubelet.conf is missing'], [`Node ${name} is registered`], files);
  return halfDone(`${files.join(', ')} present`, [`no Node ${name} is registered`], [], files);
}

/**
 * A control plane is joined when its Node has the control-plane role, its static-pod manifests
 * exist and, with stacked etcd, it is an etcd member. Anything kubeadm left short of that is
 * half-done; with a registered Node or an etcd member it belongs to the live cluster.
 */
export function controlPlaneState(
  f: NodeFiles,
  cluster: ClusterKnowledge,
  node: { name: string; address: string },
  stacked: boolean,
): NodeState {
  const files = leftovers(f);
  if ('unknown' in cluster)
    return files.length === 0 ? { state: 'clean' } : unknown(`${files.join(', ')} present`, cluster.unknown);
  if (stacked && cluster.etcdUnknown && (files.length > 0 || cluster.nodes.some((n) => n.name === node.name))) {
    return unknown(`whether ${node.name} is an etcd member decides whether it is joined`, cluster.etcdUnknown);
  }
  const row = cluster.nodes.find((n) => n.name === node.name);
  const member = stacked && cluster.etcdMembers ? memberOf(cluster.etcdMembers, node) : undefined;
  const missing: string[] = [];
  if (!row) missing.push(`no Node ${node.name} is registered`);
  else if (!isControlPlaneRow(row)) missing.push(`Node ${node.name} lacks the control-plane role`);
  const absent = CONTROL_PLANE_MANIFESTS.filter((m) => !f.manifests.includes(m));
  if (absent.length) missing.push(`missing manifests ${absent.join(', ')}`);
  if (stacked) {
    if (!member) missing.push('not an etcd member');
    if (!f.manifests.includes('etcd')) missing.push('missing manifest etcd');
  }
  if (!f.kubeletConf) missing.push('kubelet.conf is missing');
  if (missing.length === 0) {
    return {
      state: 'joined',
      detail: `Node ${node.name} is a control plane${row!.ready ? '' : ' (NotReady)'}${member ? `, etcd member ${member.id}` : ''}`,
    };
  }
  if (files.length === 0 && !member) return { state: 'clean' };
  const live = [
    ...(row ? [`Node ${node.name} is registered`] : []),
    ...(member ? [`etcd member ${member.id} (${member.name || 'unstarted'}) is listed`] : []),
  ];
  const removes = [...files, ...(member ? [`etcd member ${member.id}`] : [])];
  return halfDone(
    files.length ? `${files.join(', ')} present` : `etcd member ${member!.id} listed`,
    missing,
    live,
    removes,
  );
}

/**
 * The first control plane after `kubeadm init`: admin.conf, and itself a joined control plane. It
 * holds the cluster's CA (and, stacked, its first etcd member's data): whatever else it is, it is
 * live, and never reset without an operator. A CA alone is not a cluster: kubeadm init uses a CA
 * that the operator placed there ("Using existing ca certificate authority").
 */
export function initState(
  f: NodeFiles,
  cluster: ClusterKnowledge,
  node: { name: string; address: string },
  stacked: boolean,
): NodeState {
  const files = leftovers(f);
  if (!f.adminConf && files.length === 0) return { state: 'clean' };
  const present = [...(f.adminConf ? ['admin.conf'] : []), ...files].join(', ');
  if ('unknown' in cluster) return unknown(`${present} present`, cluster.unknown);
  const cp = controlPlaneState(f, cluster, node, stacked);
  if (cp.state === 'unknown') return cp;
  if (cp.state === 'joined' && f.adminConf) return { state: 'joined', detail: `initialised: ${cp.detail}` };
  const first = `${node.name} is the first control plane${f.caCert ? ": its CA is the cluster's" : ''}${f.etcdData ? ", its etcd data the cluster's state" : ''}`;
  const removes = [
    ...(f.adminConf ? ['admin.conf'] : []),
    ...(f.caCert ? ['the cluster CA and every certificate in /etc/kubernetes/pki'] : []),
  ];
  if (cp.state === 'half-done') return { ...cp, live: [first, ...cp.live], removes: [...cp.removes, ...removes] };
  return halfDone(`${present} present`, ['admin.conf is missing'], [first], [...files, ...removes]);
}

/**
 * An external etcd member kubeadm-ha builds is done when its static pod manifest exists (the last
 * thing the build writes); the cluster's health is checked afterwards. Member data without the
 * manifest is what a failed build left; it may hold a member of the running etcd cluster.
 */
export function etcdHostState(f: NodeFiles): NodeState {
  if (f.manifests.includes('etcd')) return { state: 'joined', detail: 'etcd static pod present' };
  if (f.etcdData) {
    return halfDone(
      '/var/lib/etcd/member present',
      ['no etcd static pod'],
      ['its data may be a member of the running etcd cluster'],
      ['/var/lib/etcd/member'],
    );
  }
  return { state: 'clean' };
}
