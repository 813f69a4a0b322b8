// inspectHost: before anything changes, prove we can reach the host with a pinned host key, that
// sudo works without a password and that kubeadm matches the cluster's version, and gather what
// kubeadm already did there (the facts that decide which phases touch this host).
// readCluster: the cluster as its API servers and etcd report it, read from the first control plane's
// host, or the fact that could not be read and why (src/activities/cluster-facts.ts).
import { ApplicationFailure } from '@temporalio/activity';
import { caCertHashCommand, parseCaCertHash } from '../kubeadm/certs';
import { hostFactsCommand, parseHostFacts } from '../kubeadm/host-facts';
import { parseKubeVersion } from '../kubeadm/version';
import { busySteps } from '../ssh/journal';
import type { ClusterReading, HostFacts, OnHost, Role } from './types';
import { readEtcdMembers, readNodes } from './cluster-facts';
import { withSessions } from './host-context';
import type { HostSpec } from '../config/types';

/** `forReset`: a reset needs only SSH, sudo and a kubeadm, of whatever version the host has. */
export const inspectHost = async ({
  host,
  ssh,
  role,
  kubernetesVersion,
  forReset,
}: OnHost & { role: Role; kubernetesVersion: string; forReset?: boolean }): Promise<HostFacts> =>
  withSessions(ssh, [host], async (remote): Promise<HostFacts> => {
    const r = await remote.check(
      hostFactsCommand(),
      'inspecting the host (hostname, kubeadm version -o short, /etc/kubernetes)',
    );
    const facts = parseHostFacts(r.stdout);
    if (forReset) return hostFacts(host, facts, await busySteps(remote.session));
    const want = parseKubeVersion(kubernetesVersion);
    let have;
    try {
      have = parseKubeVersion(facts.kubeadmVersion);
    } catch {
      throw ApplicationFailure.nonRetryable(
        `${host.name}: cannot read the kubeadm version ("${facts.kubeadmVersion}"); is kubeadm installed?`,
        'HostNotReady',
      );
    }
    if (have.major !== want.major || have.minor !== want.minor) {
      throw ApplicationFailure.nonRetryable(
        `${host.name}: kubeadm is ${have.raw} but the cluster file asks for ${want.raw}; install kubeadm ${want.major}.${want.minor} or change kubernetesVersion`,
        'VersionMismatch',
      );
    }
    if (role === 'etcd' && !facts.etcdctl) {
      throw ApplicationFailure.nonRetryable(
        `${host.name}: etcdctl is not installed; the etcd cluster's health is checked with it (Debian/Ubuntu: apt-get install etcd-client)`,
        'HostNotReady',
      );
    }
    if (role === 'worker' && facts.files.manifests.includes('kube-apiserver')) {
      throw ApplicationFailure.nonRetryable(
        `${host.name}: listed as a worker but it runs a control plane; fix the cluster file or run kubeadm reset -f on it`,
        'HostNotReady',
      );
    }
    return hostFacts(host, facts, await busySteps(remote.session));
  });

const hostFacts = (host: HostSpec, facts: ReturnType<typeof parseHostFacts>, busy: string[]): HostFacts => ({
  name: host.name,
  hostname: facts.hostname,
  kubeadmVersion: facts.kubeadmVersion,
  files: facts.files,
  ...(busy.length ? { busy: busy.join(', ') } : {}),
});

/** Read from `host` (the first control plane); `controlPlanes` are asked directly when the load balancer does not answer. */
export const readCluster = async ({
  host,
  ssh,
  stacked,
  controlPlanes,
}: OnHost & { stacked: boolean; controlPlanes?: HostSpec[] }): Promise<ClusterReading> =>
  withSessions(ssh, [host], async (remote): Promise<ClusterReading> => {
    // Older workflow code passed no control planes: the first one's own API server and etcd then.
    const cps = controlPlanes ?? [host];
    const api = await readNodes(remote, cps);
    if ('unknown' in api) return api;
    const caCertHash = parseCaCertHash(
      (await remote.check(caCertHashCommand(), 'computing the CA certificate hash')).stdout,
    );
    const view = { nodes: api.nodes, caCertHash, via: api.via };
    if (!stacked) return view;
    const etcd = await readEtcdMembers(remote, cps);
    return 'unknown' in etcd
      ? { ...view, etcdUnknown: etcd.unknown }
      : { ...view, etcdMembers: etcd.members, via: `${api.via}; etcd members: ${etcd.via}` };
  });
