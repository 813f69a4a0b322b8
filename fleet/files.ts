// Files the fleet writes for its users: client key, known_hosts, the cluster file and a
// stand-in CNI manifest.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LB_PORT, LOGIN_USER, SSH_PORT } from './layout';
import { sh } from './proc';
import { FleetHost } from './types';

export function writeClientKey(dir: string): string {
  const key = path.join(dir, 'id_ed25519');
  fs.rmSync(key, { force: true });
  fs.rmSync(key + '.pub', { force: true });
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key, '-C', 'kubeadm-ha-fleet']);
  fs.chmodSync(key, 0o600);
  return fs.readFileSync(key + '.pub', 'utf8');
}

/** `extra`: lines of the cluster file that the real fleet's nodes need (kubeadm and kubelet settings). */
export function writeClusterFile(
  dir: string,
  name: string,
  version: string,
  lbAddress: string,
  hosts: FleetHost[],
  extra: string[] = [],
): string {
  const line = (h: FleetHost): string => `  - { name: ${h.name}, address: ${h.address} }`;
  const cps = hosts.filter((h) => h.role === 'control-plane');
  const ws = hosts.filter((h) => h.role === 'worker');
  const etcd = hosts.filter((h) => h.role === 'etcd');
  const text = [
    `name: ${name}`,
    `kubernetesVersion: ${version}`,
    // With etcd hosts: external etcd, built by kubeadm-ha on them.
    ...(etcd.length
      ? ['topology: external', 'etcd:', '  hosts:', ...etcd.map((h) => `  ${line(h)}`)]
      : ['topology: stacked']),
    `loadBalancer: { host: ${lbAddress}, port: ${LB_PORT} }`,
    'networking: { podSubnet: 192.168.0.0/16 }',
    ...extra,
    'cni: { manifest: ./cni.yaml }',
    `ssh: { user: ${LOGIN_USER}, privateKeyFile: ./id_ed25519, knownHostsFile: ./known_hosts, port: ${SSH_PORT} }`,
    'controlPlanes:',
    ...cps.map(line),
    ...(ws.length ? ['workers:', ...ws.map(line)] : ['workers: []']),
    'approvals: [etcd, init, joinControlPlanes, joinWorkers]',
    'workerConcurrency: 10',
    '',
  ].join('\n');
  const file = path.join(dir, 'cluster.yaml');
  fs.writeFileSync(file, text);
  return file;
}

/** A small manifest shaped like a real CNI (flannel): namespace, RBAC, config, DaemonSet. */
export function writeCniManifest(dir: string): string {
  const text = `---
kind: Namespace
apiVersion: v1
metadata:
  name: kube-flannel
  labels:
    pod-security.kubernetes.io/enforce: privileged
---
kind: ServiceAccount
apiVersion: v1
metadata:
  name: flannel
  namespace: kube-flannel
---
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: flannel
rules:
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list", "watch"]
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: flannel
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: flannel
subjects:
- kind: ServiceAccount
  name: flannel
  namespace: kube-flannel
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  net-conf.json: |
    { "Network": "192.168.0.0/16", "Backend": { "Type": "vxlan" } }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
  labels:
    app: flannel
spec:
  selector:
    matchLabels:
      app: flannel
  template:
    metadata:
      labels:
        app: flannel
    spec:
      hostNetwork: true
      serviceAccountName: flannel
      containers:
      - name: kube-flannel
        image: docker.io/flannel/flannel:v0.26.1
        command: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"]
`;
  const file = path.join(dir, 'cni.yaml');
  fs.writeFileSync(file, text);
  return file;
}
