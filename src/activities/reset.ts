// resetNode: `kubeadm reset -f` for the reset of a whole cluster, then a check that the node holds
// nothing of kubeadm's any more, so a new build accepts it as clean. The workflow decides the order
// (workers, control planes with the first one last, etcd hosts) and asks the operator first; here,
// as a second line of defence, the first control plane is never reset without that approval.
import { ApplicationFailure } from '@temporalio/activity';
import { withSessions } from './host-context';
import { resetHere } from './node-reset';
import type { Journaled, OnHost, StepResult } from './types';

export const resetNode = async ({
  host,
  ssh,
  stepId,
  first,
  approvedBy,
}: OnHost & Journaled & { first: boolean; approvedBy?: string }): Promise<StepResult> =>
  withSessions(ssh, [host], async (node): Promise<StepResult> => {
    if (first && !approvedBy) {
      throw ApplicationFailure.create({
        message: `${host.name}: refusing kubeadm reset -f on the first control plane without an operator's approval`,
        type: 'ResetRefused',
        nonRetryable: true,
      });
    }
    const o = await resetHere(node, stepId, ssh.user);
    return {
      host: host.name,
      alreadyDone: o.state === 'already-done',
      attached: o.attached,
      detail: `reset${approvedBy ? ` (approved by ${approvedBy})` : ''}`,
    };
  });
