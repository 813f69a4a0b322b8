// joinNode: `kubeadm join` of a worker or an additional control plane. The token's secret goes
// into a 0600 JoinConfiguration that the journal removes when the join ends, whoever is watching:
// never into argv, logs or workflow history. A retry re-attaches to a join still running.
import { ApplicationFailure } from '@temporalio/activity';
import { renderJoinConfig } from '../kubeadm/config';
import { memberOf } from '../kubeadm/etcd';
import { parseGetNodes } from '../kubeadm/kubectl';
import { isControlPlaneRow } from '../kubeadm/node-state';
import { joinConfigPath, KUBECTL, KUBELET_CONF } from '../kubeadm/paths';
import type { HostSpec, SshSpec } from '../config/types';
import type { Journaled, OnHost, Role, StepResult, TokenRef } from './types';
import { withSessions } from './host-context';
import { readEtcdMembers } from './cluster-facts';
import { kubeadmOutcome } from './kubeadm-failure';
import { tokenSecret } from './token-secrets';
import { certificateKey as certificateKeyOn } from './certificate-key';
import type { KubeadmNodeOptions } from '../kubeadm/config';

export type JoinNodeInput = OnHost &
  Journaled & {
    role: Role;
    kubernetesVersion: string;
    endpoint: string;
    caCertHash: string;
    token: TokenRef;
    /** The first control plane, where the token's secret (and the certificate key) is kept. */
    tokenHost: HostSpec;
    /** A control plane joining in upload mode downloads the shared certificates with the certificate key. */
    downloadCerts?: boolean;
    /** The cluster file's kubeadm section (preflight checks to ignore, patches). */
    kubeadm?: KubeadmNodeOptions;
  };

export const joinNode = async (input: JoinNodeInput): Promise<StepResult> => {
  const { host, ssh, stepId, role, tokenHost } = input;
  const what = `kubeadm join as ${role}`;
  const file = joinConfigPath(stepId);
  const secret = await tokenSecret(ssh, tokenHost, input.token.id);
  // Upload mode: the control plane downloads the shared certificates with the key kept on tokenHost.
  const certificateKey =
    role === 'control-plane' && input.downloadCerts ? await certificateKeyOn(ssh, tokenHost) : undefined;
  // One connection, one exec: the journal writes the config (0600, from stdin) only when it starts
  // the join; a retry that finds the join started just attaches.
  const config = renderJoinConfig({
    kubernetesVersion: input.kubernetesVersion,
    nodeName: host.name,
    apiServerEndpoint: input.endpoint,
    token: secret,
    caCertHashes: [input.caCertHash],
    ...(input.kubeadm ? { kubeadm: input.kubeadm } : {}),
    ...(role === 'control-plane'
      ? { controlPlane: { advertiseAddress: host.address, ...(certificateKey ? { certificateKey } : {}) } }
      : {}),
  });
  const o = await withSessions(ssh, [host], (node) => {
    node.step(what);
    return node.journaled({
      id: stepId,
      command: `kubeadm join --config ${file}`,
      guard: `test -f ${KUBELET_CONF}`,
      input: { path: file, content: config },
      removeAfter: [file],
    });
  });
  const how = kubeadmOutcome(host.name, what, o);
  if (how === 'already-done') {
    // kubelet.conf alone proves nothing: confirm the join in the cluster's own view.
    const problem = await joinedProblem(ssh, tokenHost, host, role);
    if (problem)
      throw ApplicationFailure.create({ message: `${host.name}: ${problem}`, type: 'HalfDone', nonRetryable: true });
  }
  const result: StepResult = {
    host: host.name,
    alreadyDone: how === 'already-done',
    attached: o.attached,
    detail:
      how === 'already-done'
        ? `already joined as ${role}`
        : `joined as ${role}${o.attached ? ' (waited for the running join)' : ''}`,
  };
  return result;
};

/** Why a node is not joined in the cluster's view, or undefined when it is. */
async function joinedProblem(ssh: SshSpec, cp: HostSpec, node: HostSpec, role: Role): Promise<string | undefined> {
  return withSessions(ssh, [cp], async (remote) => {
    const nodes = await remote.check(`${KUBECTL} get nodes`, 'kubectl get nodes');
    const row = parseGetNodes(nodes.stdout).find((n) => n.name === node.name);
    if (!row) return `${KUBELET_CONF} exists but no Node ${node.name} is registered`;
    if (role === 'worker') return undefined;
    if (!isControlPlaneRow(row)) return `Node ${node.name} is registered without the control-plane role`;
    const etcd = await readEtcdMembers(remote, [cp]);
    if (!('unknown' in etcd) && !memberOf(etcd.members, node)) return `${node.name} is not an etcd member`;
    return undefined;
  });
}
