// Static Pod manifests and kubelet files, shaped like kubeadm's (trimmed to the relevant fields).
import * as fs from 'node:fs';
import * as YAML from 'yaml';

export interface ManifestContext {
  nodeName: string;
  address: string;
  bindPort: number;
  version: string;
  podSubnet: string;
  serviceSubnet: string;
  /** etcd --initial-cluster value (all members including this one) */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  /** ClusterConfiguration.etcd.external; the stand-in API server then keeps its objects there. */
  externalEtcd?: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string };
}

/** The API server's etcd flags (cmd/kubeadm/app/phases/controlplane/manifests.go, getAPIServerCommand). */
function apiserverEtcdFlags(c: ManifestContext): string[] {
  const x = c.externalEtcd;
  if (!x) {
    return [
      '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
      '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
      '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key',
      '--etcd-servers=https://127.0.0.1:2379',
    ];
  }
  return [
    ...(x.caFile ? [`--etcd-cafile=${x.caFile}`] : []),
    ...(x.certFile ? [`--etcd-certfile=${x.certFile}`] : []),
    ...(x.keyFile ? [`--etcd-keyfile=${x.keyFile}`] : []),
    `--etcd-servers=${x.endpoints.join(',')}`,
  ];
}

function pod(
  name: string,
  image: string,
  command: string[],
  port: number,
  scheme: 'HTTP' | 'HTTPS',
  host: string,
): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { labels: { component: name, tier: 'control-plane' }, name, namespace: 'kube-system' },
    spec: {
      containers: [
        {
          command,
          image,
          imagePullPolicy: 'IfNotPresent',
          livenessProbe: {
            httpGet: { host, path: name === 'etcd' ? '/livez' : '/livez', port, scheme },
            initialDelaySeconds: 10,
            periodSeconds: 10,
            failureThreshold: 8,
          },
          name,
          resources: { requests: { cpu: '250m' } },
        },
      ],
      hostNetwork: true,
      priority: 2000001000,
      priorityClassName: 'system-node-critical',
    },
  };
}

const DIR = '/etc/kubernetes/manifests';
const REG = 'registry.k8s.io';
function write(name: string, o: unknown): void {
  fs.mkdirSync(DIR, { recursive: true });
  fs.writeFileSync(`${DIR}/${name}.yaml`, YAML.stringify(o));
}

/** The etcd phase (init: etcd/local, join: control-plane-join/etcd). */
export function writeEtcdManifest(c: ManifestContext): void {
  write(
    'etcd',
    pod(
      'etcd',
      `${REG}/etcd:3.5.15-0`,
      [
        'etcd',
        `--advertise-client-urls=https://${c.address}:2379`,
        '--cert-file=/etc/kubernetes/pki/etcd/server.crt',
        '--data-dir=/var/lib/etcd',
        `--initial-advertise-peer-urls=https://${c.address}:2380`,
        `--initial-cluster=${c.initialCluster}`,
        ...(c.initialClusterState === 'existing' ? ['--initial-cluster-state=existing'] : []),
        '--key-file=/etc/kubernetes/pki/etcd/server.key',
        `--listen-client-urls=https://127.0.0.1:2379,https://${c.address}:2379`,
        `--listen-peer-urls=https://${c.address}:2380`,
        `--name=${c.nodeName}`,
        '--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt',
        '--peer-key-file=/etc/kubernetes/pki/etcd/peer.key',
        '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
      ],
      2381,
      'HTTP',
      '127.0.0.1',
    ),
  );
}

/** The control-plane phase (join: control-plane-prepare/control-plane). */
export function writeControlPlaneManifests(c: ManifestContext): void {
  write(
    'kube-apiserver',
    pod(
      'kube-apiserver',
      `${REG}/kube-apiserver:${c.version}`,
      [
        'kube-apiserver',
        `--advertise-address=${c.address}`,
        '--authorization-mode=Node,RBAC',
        '--client-ca-file=/etc/kubernetes/pki/ca.crt',
        '--enable-bootstrap-token-auth=true',
        ...apiserverEtcdFlags(c),
        `--secure-port=${c.bindPort}`,
        '--service-account-key-file=/etc/kubernetes/pki/sa.pub',
        '--service-account-signing-key-file=/etc/kubernetes/pki/sa.key',
        `--service-cluster-ip-range=${c.serviceSubnet}`,
        '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
        '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
      ],
      c.bindPort,
      'HTTPS',
      c.address,
    ),
  );
  write(
    'kube-controller-manager',
    pod(
      'kube-controller-manager',
      `${REG}/kube-controller-manager:${c.version}`,
      [
        'kube-controller-manager',
        '--allocate-node-cidrs=true',
        `--cluster-cidr=${c.podSubnet}`,
        '--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt',
        '--cluster-signing-key-file=/etc/kubernetes/pki/ca.key',
        '--kubeconfig=/etc/kubernetes/controller-manager.conf',
        '--leader-elect=true',
      ],
      10257,
      'HTTPS',
      '127.0.0.1',
    ),
  );
  write(
    'kube-scheduler',
    pod(
      'kube-scheduler',
      `${REG}/kube-scheduler:${c.version}`,
      ['kube-scheduler', '--kubeconfig=/etc/kubernetes/scheduler.conf', '--leader-elect=true'],
      10259,
      'HTTPS',
      '127.0.0.1',
    ),
  );
}

export function writeKubeletFiles(nodeIP: string): void {
  fs.mkdirSync('/var/lib/kubelet/pki', { recursive: true });
  fs.writeFileSync(
    '/var/lib/kubelet/kubeadm-flags.env',
    `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --node-ip=${nodeIP} --pod-infra-container-image=registry.k8s.io/pause:3.10"\n`,
  );
  fs.writeFileSync(
    '/var/lib/kubelet/config.yaml',
    YAML.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
      },
      authorization: { mode: 'Webhook' },
      cgroupDriver: 'systemd',
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      rotateCertificates: true,
      staticPodPath: '/etc/kubernetes/manifests',
    }),
  );
}
