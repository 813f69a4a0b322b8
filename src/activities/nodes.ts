// verifyNodesReady: the procedure ends when every node of the cluster file is listed and Ready.
import { ApplicationFailure } from '@temporalio/activity';
import { parseGetNodes } from '../kubeadm/kubectl';
import type { ClusterInput, NodesResult } from './types';
import { withSessions, pollUntil } from './host-context';
import { KUBECTL } from './paths';

const READY_TRIES = 150; // x 2 s: five minutes for kubelets to report Ready

export async function verifyNodesReady({ spec }: ClusterInput): Promise<NodesResult> {
  const expected = [...spec.controlPlanes, ...spec.workers].map((h) => h.name);
  let notReady = expected;
  return withSessions(spec, [spec.controlPlanes[0]], (remote) => pollUntil(async () => {
    const r = await remote.check(`${KUBECTL} get nodes`, 'kubectl get nodes');
    const rows = parseGetNodes(r.stdout);
    notReady = expected.filter((name) => !rows.find((n) => n.name === name)?.ready);
    if (notReady.length === 0) {
      return { nodes: rows.filter((n) => expected.includes(n.name)).map((n) => ({ name: n.name, ready: n.ready, roles: n.roles })) };
    }
    remote.step(`waiting for ${notReady.join(', ')} to be Ready`);
    return undefined;
  }, {
    attempts: READY_TRIES,
    giveUp: () => ApplicationFailure.nonRetryable(`nodes not Ready after ${(READY_TRIES * 2) / 60} minutes: ${notReady.join(', ')}; ` +
      'check their kubelet and the CNI', 'NodesNotReady'),
  }));
}
