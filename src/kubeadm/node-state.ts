// Whether kubeadm's work on a node is done, decided from the node's files and the cluster's own
// view (Nodes and their roles, etcd members), never from one file: a join that failed after
// kubelet-start leaves kubelet.conf behind but no control plane. Reference: kubeadm
// cmd/kubeadm/app/cmd/phases/join (kubelet-start precedes control-plane-join/etcd and
// mark-control-plane) and cmd/kubeadm/app/cmd/phases/reset (what reset removes).
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
}

/** The cluster as a healthy control plane reports it; undefined when no API server answers. */
export interface ClusterView {
  nodes: NodeRow[];
  /** Stacked etcd only: undefined when it could not be read. */
  etcdMembers?: EtcdMember[];
}

export type NodeState =
  | { state: 'clean' }
  | { state: 'joined'; detail: string }
  | { state: 'half-done'; detail: string };

export const CONTROL_PLANE_MANIFESTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

export const isControlPlaneRow = (n: NodeRow): boolean => n.roles.includes('control-plane') || n.roles.includes('master');

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

/** A worker is joined when its Node is registered; files without a Node are a half-done join. */
export function workerState(f: NodeFiles, cluster: ClusterView | undefined, name: string): NodeState {
  const node = cluster?.nodes.find((n) => n.name === name);
  const files = leftovers(f);
  if (node && f.kubeletConf) return { state: 'joined', detail: `Node ${name} is registered${node.ready ? ' and Ready' : ''}` };
  if (files.length === 0) return { state: 'clean' };
  if (!cluster) return { state: 'half-done', detail: `${files.join(', ')} present but no API server answered to confirm the Node` };
  return { state: 'half-done', detail: `${files.join(', ')} present but ${node ? 'kubelet.conf is missing' : `no Node ${name} is registered`}` };
}

/**
 * A control plane is joined when its Node has the control-plane role, its static-pod manifests
 * exist and, with stacked etcd, it is an etcd member. Anything kubeadm left short of that is half-done.
 */
export function controlPlaneState(f: NodeFiles, cluster: ClusterView | undefined, node: { name: string; address: string }, stacked: boolean): NodeState {
  const files = leftovers(f);
  const row = cluster?.nodes.find((n) => n.name === node.name);
  const member = cluster?.etcdMembers ? memberOf(cluster.etcdMembers, node) : undefined;
  const missing: string[] = [];
  if (!row) missing.push(`no Node ${node.name} is registered`);
  else if (!isControlPlaneRow(row)) missing.push(`Node ${node.name} lacks the control-plane role`);
  const absent = CONTROL_PLANE_MANIFESTS.filter((m) => !f.manifests.includes(m));
  if (absent.length) missing.push(`missing manifests ${absent.join(', ')}`);
  if (stacked) {
    if (!cluster?.etcdMembers) missing.push('etcd membership could not be read');
    else if (!member) missing.push('not an etcd member');
    if (!f.manifests.includes('etcd')) missing.push('missing manifest etcd');
  }
  if (missing.length === 0 && f.kubeletConf) return { state: 'joined', detail: `control plane${stacked ? ' and etcd member' : ''}` };
  if (files.length === 0 && !member) return { state: 'clean' };
  if (!cluster) return { state: 'half-done', detail: `${files.join(', ')} present but no API server answered to confirm the join` };
  const present = files.length ? `${files.join(', ')} present` : `etcd member ${member!.id} listed`;
  return { state: 'half-done', detail: `${present} but ${missing.join('; ') || 'kubelet.conf is missing'}` };
}

/** The first control plane after `kubeadm init`: admin.conf, an answering API server, and itself a control plane. */
export function initState(f: NodeFiles, cluster: ClusterView | undefined, node: { name: string; address: string }, stacked: boolean): NodeState {
  if (!f.adminConf && leftovers(f).length === 0) return { state: 'clean' };
  if (!cluster) return { state: 'half-done', detail: `${f.adminConf ? 'admin.conf' : leftovers(f).join(', ')} present but the API server does not answer` };
  const cp = controlPlaneState(f, cluster, node, stacked);
  if (cp.state === 'joined' && f.adminConf) return { state: 'joined', detail: `initialised: ${cp.detail}` };
  return { state: 'half-done', detail: cp.state === 'half-done' ? cp.detail : 'admin.conf is missing' };
}

/**
 * An external etcd member kubeadm-ha builds is done when its static pod manifest exists (the last
 * thing the build writes); the cluster's health is checked afterwards. Member data or certificates
 * without the manifest are what a failed build left.
 */
export function etcdHostState(f: NodeFiles): NodeState {
  if (f.manifests.includes('etcd')) return { state: 'joined', detail: 'etcd static pod present' };
  if (f.etcdData) return { state: 'half-done', detail: '/var/lib/etcd/member present but no etcd static pod' };
  return { state: 'clean' };
}
