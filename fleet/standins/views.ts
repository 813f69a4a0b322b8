// What the API server reports about nodes and pods, derived from the shared state.
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { runDir } from '../layout';
import { alive, readPid } from '../proc';
import { ClusterState } from './state';

export interface NodeView {
  name: string;
  role: 'control-plane' | 'worker';
  ready: boolean;
  createdAt: number;
  version: string;
  address: string;
}

export interface PodView {
  name: string;
  namespace: string;
  ready: string;
  status: string;
  restarts: number;
  createdAt: number;
  node: string;
}

export function kubeletAlive(dir: string, node: string): boolean {
  return alive(readPid(path.join(runDir(dir, node), 'kubelet.pid')));
}

export function nodeViews(s: ClusterState, dir: string): NodeView[] {
  return Object.values(s.nodes)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((n) => ({
      name: n.name,
      role: n.role,
      createdAt: n.createdAt,
      version: n.version,
      address: n.address,
      ready: s.cniApplied && kubeletAlive(dir, n.name),
    }));
}

// Pod name suffixes use the apimachinery alphabet (no vowels, no confusable digits).
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function suffix(seed: string, n: number): string {
  const h = crypto.createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[h[i] % ALPHABET.length];
  return out;
}

export function podViews(s: ClusterState, dir: string): PodView[] {
  const nodes = nodeViews(s, dir);
  const pods: PodView[] = [];
  const first = nodes.reduce((m, n) => Math.min(m, n.createdAt), Date.now());
  const cni = s.cniApplied;
  for (const n of nodes) {
    const running = (name: string, ns = 'kube-system'): PodView => ({
      name,
      namespace: ns,
      ready: '1/1',
      status: 'Running',
      restarts: 0,
      createdAt: n.createdAt,
      node: n.name,
    });
    if (n.role === 'control-plane') {
      // With etcd.external there are no etcd static pods on the control planes.
      const external = !!(s.clusterConfiguration.etcd as { external?: unknown } | undefined)?.external;
      for (const c of [...(external ? [] : ['etcd']), 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
        pods.push(running(`${c}-${n.name}`));
    }
    pods.push(running(`kube-proxy-${suffix(s.caCert + n.name, 5)}`));
    for (const o of Object.values(s.applied)) {
      if (o.kind === 'DaemonSet')
        pods.push(running(`${o.name}-${suffix(o.name + n.name, 5)}`, o.namespace ?? 'default'));
    }
  }
  if (nodes.length) {
    const rs = suffix(s.caCert + 'coredns', 10);
    for (const i of [0, 1]) {
      pods.push({
        name: `coredns-${rs}-${suffix(s.caCert + 'coredns' + i, 5)}`,
        namespace: 'kube-system',
        ready: cni ? '1/1' : '0/1',
        status: cni ? 'Running' : 'Pending',
        restarts: 0,
        createdAt: first,
        node: cni ? nodes[0].name : '',
      });
    }
  }
  return pods.sort((a, b) => a.name.localeCompare(b.name));
}
