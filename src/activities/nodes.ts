// verifyNodes: the procedure ends when every node of the cluster file is registered with its role
// and Ready.
import { ApplicationFailure } from '@temporalio/activity';
import { parseGetNodes } from '../kubeadm/kubectl';
import { isControlPlaneRow } from '../kubeadm/node-state';
import { KUBECTL } from '../kubeadm/paths';
import type { NodesResult, OnHost, Role } from './types';
import { withSessions, pollUntil } from './host-context';

const READY_TRIES = 150; // x 2 s: five minutes for kubelets to report Ready

export const verifyNodes = async ({
  host,
  ssh,
  expected,
}: OnHost & { expected: { name: string; role: Role }[] }): Promise<NodesResult> => {
  let problems: string[] = [];
  return withSessions(ssh, [host], (remote) =>
    pollUntil(
      async (): Promise<NodesResult | undefined> => {
        const rows = parseGetNodes((await remote.check(`${KUBECTL} get nodes`, 'kubectl get nodes')).stdout);
        problems = expected.flatMap(({ name, role }) => {
          const n = rows.find((r) => r.name === name);
          if (!n) return [`${name} is not registered`];
          if (role === 'control-plane' && !isControlPlaneRow(n)) return [`${name} lacks the control-plane role`];
          if (role === 'worker' && isControlPlaneRow(n)) return [`${name} is a control plane but listed as a worker`];
          return n.ready ? [] : [`${name} is not Ready`];
        });
        if (problems.length === 0) {
          return {
            nodes: rows
              .filter((n) => expected.some((e) => e.name === n.name))
              .map((n) => ({ name: n.name, ready: n.ready, roles: n.roles })),
          };
        }
        remote.step(`waiting: ${problems.slice(0, 5).join(', ')}`);
        return undefined;
      },
      {
        attempts: READY_TRIES,
        giveUp: () =>
          ApplicationFailure.nonRetryable(
            `nodes not right after ${(READY_TRIES * 2) / 60} minutes: ${problems.join('; ')}; check their kubelet and the CNI`,
            'NodesNotReady',
          ),
      },
    ),
  );
};
