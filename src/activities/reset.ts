// resetNode: `kubeadm reset -f` for the reset of a whole cluster, then a check that the node holds
// nothing of kubeadm's any more, so a new build accepts it as clean. The workflow decides the order
// (workers, control planes with the first one last, etcd hosts) and asks the operator first; here,
// as a second line of defence, the first control plane is never reset without that approval.
import { ApplicationFailure } from '@temporalio/activity';
import { hostFactsCommand, parseHostFacts } from '../kubeadm/host-facts';
import { leftovers } from '../kubeadm/node-state';
import { ADMIN_CONF } from '../kubeadm/paths';
import { withSessions } from './host-context';
import { kubeadmOutcome } from './kubeadm-failure';
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
    node.step('kubeadm reset -f');
    const o = await node.journaled({ id: stepId, command: 'kubeadm reset -f' });
    kubeadmOutcome(host.name, 'kubeadm reset -f', o);
    const f = parseHostFacts((await node.check(hostFactsCommand(), 'checking what kubeadm reset left')).stdout).files;
    const left = [...leftovers(f), ...(f.adminConf ? [ADMIN_CONF] : [])];
    if (left.length) {
      throw ApplicationFailure.create({
        message: `${host.name}: kubeadm reset -f finished but left ${left.join(', ')}`,
        type: 'HalfDone',
        nonRetryable: true,
      });
    }
    return {
      host: host.name,
      alreadyDone: o.state === 'already-done',
      attached: o.attached,
      detail: `reset${approvedBy ? ` (approved by ${approvedBy})` : ''}`,
    };
  });
