// inspectHost: before anything changes, prove we can reach the host with a pinned host key, that
// sudo works without a password and that kubeadm matches the cluster's version, and gather what
// kubeadm already did there (the facts that decide which phases touch this host).
// readCluster: the cluster as the first control plane's API server and etcd report it.
import { ApplicationFailure } from '@temporalio/activity';
import { caCertHashCommand, parseCaCertHash } from '../kubeadm/certs';
import { hostFactsCommand, parseHostFacts } from '../kubeadm/host-facts';
import { parseGetNodes } from '../kubeadm/kubectl';
import { KUBECTL } from '../kubeadm/paths';
import { parseKubeVersion } from '../kubeadm/version';
import { busySteps } from '../ssh/journal';
import type { HostFacts, KubeadmHaActivities } from './types';
import { etcdMembers, withSessions } from './host-context';

export const inspectHost: KubeadmHaActivities['inspectHost'] = async ({ host, ssh, role, kubernetesVersion }) =>
  withSessions(ssh, [host], async (remote): Promise<HostFacts> => {
    const r = await remote.check(hostFactsCommand(), 'inspecting the host (hostname, kubeadm version -o short, /etc/kubernetes)');
    const facts = parseHostFacts(r.stdout);
    const want = parseKubeVersion(kubernetesVersion);
    let have;
    try {
      have = parseKubeVersion(facts.kubeadmVersion);
    } catch {
      throw ApplicationFailure.nonRetryable(`${host.name}: cannot read the kubeadm version ("${facts.kubeadmVersion}"); is kubeadm installed?`, 'HostNotReady');
    }
    if (have.major !== want.major || have.minor !== want.minor) {
      throw ApplicationFailure.nonRetryable(
        `${host.name}: kubeadm is ${have.raw} but the cluster file asks for ${want.raw}; install kubeadm ${want.major}.${want.minor} or change kubernetesVersion`,
        'VersionMismatch');
    }
    if (role === 'etcd' && !facts.etcdctl) {
      throw ApplicationFailure.nonRetryable(`${host.name}: etcdctl is not installed; the etcd cluster's health is checked with it (Debian/Ubuntu: apt-get install etcd-client)`, 'HostNotReady');
    }
    if (role === 'worker' && facts.files.manifests.includes('kube-apiserver')) {
      throw ApplicationFailure.nonRetryable(`${host.name}: listed as a worker but it runs a control plane; fix the cluster file or run kubeadm reset -f on it`, 'HostNotReady');
    }
    const busy = await busySteps(remote.session);
    return { name: host.name, hostname: facts.hostname, kubeadmVersion: facts.kubeadmVersion, files: facts.files, ...(busy.length ? { busy: busy.join(', ') } : {}) };
  });

export const readCluster: KubeadmHaActivities['readCluster'] = async ({ host, ssh, stacked }) =>
  withSessions(ssh, [host], async (remote) => {
    const nodes = await remote.run(`${KUBECTL} get nodes`);
    if (nodes.exitCode !== 0) return null;
    const hash = parseCaCertHash((await remote.check(caCertHashCommand(), 'computing the CA certificate hash')).stdout);
    const view = { nodes: parseGetNodes(nodes.stdout), caCertHash: hash };
    if (!stacked) return view;
    const members = await etcdMembers(remote);
    return members ? { ...view, etcdMembers: members } : view;
  });
