// joinControlPlane / joinWorker. Join material is minted fresh on the first control plane for each
// join (`kubeadm token create --print-join-command`), kept in memory, and handed to kubeadm in a 0600
// JoinConfiguration that is removed afterwards: no token in argv, logs or workflow history.
import { ApplicationFailure } from '@temporalio/activity';
import { sharedControlPlaneFiles } from '../kubeadm/certs';
import { renderJoinConfig } from '../kubeadm/config';
import { alreadyDoneBy } from '../kubeadm/failures';
import { parseJoinCommands } from '../kubeadm/join-command';
import { parseKubeVersion } from '../kubeadm/version';
import type { HostInput, StepResult } from './types';
import { withSessions, tail } from './host-context';
import { kubeadmFailure } from './kubeadm-failure';
import { JOIN_CONFIG, KUBELET_CONF, stateFile } from './paths';

export const joinControlPlane = (input: HostInput) => join(input, true);
export const joinWorker = (input: HostInput) => join(input, false);

async function join({ spec, host }: HostInput, controlPlane: boolean): Promise<StepResult> {
  const role = controlPlane ? 'control plane' : 'worker';
  return withSessions(spec, [spec.controlPlanes[0], host], async (first, node) => {
    const joined = async () => (await node.run(`test -f ${KUBELET_CONF}`)).exitCode === 0;
    if (await joined()) return { alreadyDone: true, detail: `already joined (${KUBELET_CONF} exists)` };
    if (controlPlane) {
      const needed = sharedControlPlaneFiles(spec.topology, parseKubeVersion(spec.kubernetesVersion)).map((f) => f.path);
      const missing = await node.run(`for f in ${needed.join(' ')}; do [ -f "$f" ] || echo "$f"; done`);
      if (missing.stdout.trim()) {
        throw ApplicationFailure.nonRetryable(`${host.name}: shared certificates are missing (${missing.stdout.trim().split('\n').join(', ')}); ` +
          'the distributeCerts phase must copy them first', 'KubeadmMissingSharedCerts');
      }
    }
    first.step(`minting a join token for ${host.name}`);
    const minted = await first.check('kubeadm token create --print-join-command --ttl 1h', 'kubeadm token create --print-join-command');
    const material = parseJoinCommands(minted.stdout)[0];
    if (!material) throw ApplicationFailure.retryable(`${first.host.name}: kubeadm token create printed no join command: ${tail(minted.stdout)}`, 'KubeadmFailed');
    await node.session.writeFile(JOIN_CONFIG, renderJoinConfig({
      kubernetesVersion: spec.kubernetesVersion, nodeName: host.name, apiServerEndpoint: material.endpoint,
      token: material.token, caCertHashes: material.caCertHashes,
      ...(controlPlane ? { controlPlane: { advertiseAddress: host.address } } : {}),
    }), stateFile(0o600));
    let r;
    try {
      node.step(`kubeadm join as ${role}`);
      r = await node.run(`kubeadm join --config ${JOIN_CONFIG}`);
    } finally {
      // Not tied to cancellation: the token file must go even when the join was cancelled.
      await node.session.run(`rm -f ${JOIN_CONFIG}`).catch(() => undefined);
    }
    if (r.exitCode !== 0) {
      const { failure, error } = kubeadmFailure(host.name, `kubeadm join as ${role}`, r);
      // An earlier attempt may have finished after its worker died.
      if (alreadyDoneBy(failure) && (await joined())) return { alreadyDone: true, detail: 'already joined by an earlier attempt' };
      throw error;
    }
    return { alreadyDone: false, detail: `joined as ${role}` };
  });
}
