// External etcd built with kubeadm, as kubeadm's guide "Set up a High Availability etcd cluster
// with kubeadm" (kubernetes.io/docs/setup/production-environment/tools/kubeadm/setup-ha-etcd-with-kubeadm/)
// does it: a kubelet that only runs static pods, one kubeadm config per member, the etcd CA made
// once, each member's certificates made on the member from that CA, then the etcd static pod.
// The control planes reach it with etcd.external (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go
// ExternalEtcd) and the apiserver-etcd-client certificate.
import { stringify } from 'yaml';
import { shellQuote } from '../common/shell-quote';
import { configApiVersion, kubeVersionString, parseKubeVersion } from './version';
import { checkIP, checkNodeName } from './validate';

const PKI = '/etc/kubernetes/pki';
export const ETCD_CA_CERT = `${PKI}/etcd/ca.crt`;
export const ETCD_CA_KEY = `${PKI}/etcd/ca.key`;
export const APISERVER_ETCD_CLIENT_CERT = `${PKI}/apiserver-etcd-client.crt`;
export const APISERVER_ETCD_CLIENT_KEY = `${PKI}/apiserver-etcd-client.key`;
export const ETCD_MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';
const HEALTHCHECK_CERT = `${PKI}/etcd/healthcheck-client.crt`;
const HEALTHCHECK_KEY = `${PKI}/etcd/healthcheck-client.key`;

/** What a control plane needs to talk to external etcd; also what the other control planes get copied. */
export const ETCD_CLIENT_FILES = [
  { path: ETCD_CA_CERT, mode: 0o644 },
  { path: APISERVER_ETCD_CLIENT_CERT, mode: 0o644 },
  { path: APISERVER_ETCD_CLIENT_KEY, mode: 0o600 },
] as const;

/** An etcd member as kubeadm's guide names it: its node name and the IP it serves on. */
export interface EtcdMemberHost {
  name: string;
  address: string;
}

const url = (address: string, port: number) => `https://${address.includes(':') ? `[${address}]` : address}:${port}`;
export const clientURL = (address: string) => url(address, 2379);
export const peerURL = (address: string) => url(address, 2380);

/** ClusterConfiguration.etcd.external for the control planes, with kubeadm's default file paths. */
export function externalEtcdConfig(endpoints: string[]) {
  return {
    external: {
      endpoints,
      caFile: ETCD_CA_CERT,
      certFile: APISERVER_ETCD_CLIENT_CERT,
      keyFile: APISERVER_ETCD_CLIENT_KEY,
    },
  };
}

/** The guide's KubeletConfiguration for etcd hosts: a kubelet that only runs static pods. */
const GUIDE_KUBELET_CONFIGURATION = {
  apiVersion: 'kubelet.config.k8s.io/v1beta1',
  kind: 'KubeletConfiguration',
  authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
  authorization: { mode: 'AlwaysAllow' },
  cgroupDriver: 'systemd',
  address: '127.0.0.1',
  containerRuntimeEndpoint: 'unix:///var/run/containerd/containerd.sock',
  staticPodPath: '/etc/kubernetes/manifests',
};

/**
 * The guide's kubelet for etcd hosts: its KubeletConfiguration, with the cluster file's
 * kubeletConfiguration fields in place of the guide's (a cgroupfs runtime sets cgroupDriver, as the
 * guide says), and a drop-in with higher precedence than kubeadm's, so the kubelet runs without a cluster.
 */
export function kubeletEtcdFiles(
  kubeletConfiguration: Record<string, unknown> = {},
): Array<{ path: string; content: string }> {
  return [
    {
      path: '/etc/systemd/system/kubelet.service.d/kubelet.conf',
      content: stringify({ ...GUIDE_KUBELET_CONFIGURATION, ...kubeletConfiguration }, { lineWidth: 0 }),
    },
    {
      path: '/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf',
      content: [
        '[Service]',
        'ExecStart=',
        'ExecStart=/usr/bin/kubelet --config=/etc/systemd/system/kubelet.service.d/kubelet.conf',
        'Restart=always',
        '',
      ].join('\n'),
    },
  ];
}

/** The guide's per-member kubeadm config: the member's own SANs and the etcd flags of a new cluster. */
export function renderEtcdMemberConfig(
  kubernetesVersion: string,
  member: EtcdMemberHost,
  members: EtcdMemberHost[],
): string {
  const v = parseKubeVersion(kubernetesVersion);
  const apiVersion = configApiVersion(v);
  const address = checkIP(`etcd host ${member.name} address`, member.address);
  const flags: Array<[string, string]> = [
    ['initial-cluster', members.map((m) => `${m.name}=${peerURL(m.address)}`).join(',')],
    ['initial-cluster-state', 'new'],
    ['name', checkNodeName('etcd host name', member.name)],
    ['listen-peer-urls', peerURL(address)],
    ['listen-client-urls', clientURL(address)],
    ['advertise-client-urls', clientURL(address)],
    ['initial-advertise-peer-urls', peerURL(address)],
  ];
  // v1beta4 turned every extraArgs map into a list of {name, value} (kubeadm PR #123442).
  const extraArgs =
    apiVersion === 'kubeadm.k8s.io/v1beta4'
      ? flags.map(([name, value]) => ({ name, value }))
      : Object.fromEntries(flags);
  const init = {
    apiVersion,
    kind: 'InitConfiguration',
    nodeRegistration: { name: member.name },
    localAPIEndpoint: { advertiseAddress: address },
  };
  const cluster = {
    apiVersion,
    kind: 'ClusterConfiguration',
    // Set, so kubeadm does not look up the stable version on the internet.
    kubernetesVersion: kubeVersionString(v),
    etcd: { local: { serverCertSANs: [address], peerCertSANs: [address], extraArgs } },
  };
  return [init, cluster].map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

export const ETCD_CA_COMMAND = 'kubeadm init phase certs etcd-ca';

/**
 * On a member: restart its kubelet with the guide's drop-in, make its certificates from the etcd
 * CA already there, then write the etcd static pod the kubelet starts.
 */
export function etcdMemberCommand(configPath: string): string {
  const phase = (p: string) => `kubeadm init phase ${p} --config ${shellQuote(configPath)}`;
  return [
    'systemctl daemon-reload',
    'systemctl restart kubelet',
    ...['etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'apiserver-etcd-client'].map((c) => phase(`certs ${c}`)),
    phase('etcd local'),
  ].join(' && ');
}

/** etcdctl v3 on an etcd member, with the healthcheck-client certificate kubeadm made there. */
export function memberEtcdctl(members: EtcdMemberHost[], args: string[]): string {
  return [
    'ETCDCTL_API=3 etcdctl',
    // Quoted whatever validated the addresses before: the input may come from anyone who can start a workflow.
    shellQuote(`--endpoints=${members.map((m) => clientURL(m.address)).join(',')}`),
    `--cacert=${ETCD_CA_CERT}`,
    `--cert=${HEALTHCHECK_CERT}`,
    `--key=${HEALTHCHECK_KEY}`,
    ...args.map(shellQuote),
  ].join(' ');
}

export interface EndpointHealth {
  endpoint: string;
  healthy: boolean;
  detail: string;
}

/**
 * `etcdctl endpoint health` (etcd 3.4-3.6, etcdctl/ctlv3/command/ep_command.go): one line per
 * endpoint, "<url> is healthy: successfully committed proposal: took = 1.2ms" on stdout, or
 * "<url> is unhealthy: failed to commit proposal: <error>" on stderr; give both.
 */
export function parseEndpointHealth(output: string): EndpointHealth[] {
  const out: EndpointHealth[] = [];
  for (const line of (output ?? '').split('\n')) {
    const m = /^(\S+) is (healthy|unhealthy): (.*)$/.exec(line.trim());
    if (m) out.push({ endpoint: m[1], healthy: m[2] === 'healthy', detail: m[3] });
  }
  return out;
}
