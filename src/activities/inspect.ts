// inspectHost: before anything changes, prove we can reach the host with a pinned host key,
// that sudo works without a password, and that kubeadm matches the cluster's version.
import { ApplicationFailure } from '@temporalio/activity';
import { parseKubeVersion } from '../kubeadm/version';
import type { HostInput, HostReport, Role } from './types';
import { withSessions } from './host-context';
import { APISERVER_MANIFEST, KUBELET_CONF } from './paths';

export async function inspectHost({ spec, host, role }: HostInput & { role: Role }): Promise<HostReport> {
  return withSessions(spec, [host], async (remote) => {
    const r = await remote.check(
      `hostname; kubeadm version -o short; if [ -f ${APISERVER_MANIFEST} ]; then echo control-plane; ` +
        `elif [ -f ${KUBELET_CONF} ]; then echo worker; else echo clean; fi`,
      'inspecting the host (hostname, kubeadm version -o short, /etc/kubernetes)',
    );
    const [hostname = '', kubeadmVersion = '', state = 'clean'] = r.stdout.trim().split('\n').map((l) => l.trim());
    const want = parseKubeVersion(spec.kubernetesVersion);
    let have;
    try {
      have = parseKubeVersion(kubeadmVersion);
    } catch {
      throw ApplicationFailure.nonRetryable(`${host.name}: cannot read the kubeadm version ("${kubeadmVersion}"); is kubeadm installed?`, 'HostNotReady');
    }
    if (have.major !== want.major || have.minor !== want.minor) {
      throw ApplicationFailure.nonRetryable(
        `${host.name}: kubeadm is ${have.raw} but the cluster file asks for ${want.raw}; install kubeadm ${want.major}.${want.minor} or change kubernetesVersion`,
        'VersionMismatch');
    }
    if (state === 'control-plane' && role === 'worker') {
      throw ApplicationFailure.nonRetryable(`${host.name}: listed as a worker but it runs a control plane; fix the cluster file or run kubeadm reset -f on it`, 'HostNotReady');
    }
    return { name: host.name, hostname, kubeadmVersion, state: state as HostReport['state'] };
  });
}
