// Resetting a node, shared by the reset of a cluster and the removal of a node: kubeadm reset -f and
// the removal of what it leaves, journaled, then a check that nothing of kubeadm is left, so a new
// build accepts the host as clean.
import { ApplicationFailure } from '@temporalio/activity';
import { hostFactsCommand, parseHostFacts } from '../kubeadm/host-facts';
import { leftovers } from '../kubeadm/node-state';
import { ADMIN_CONF } from '../kubeadm/paths';
import { resetCleanupCommand } from '../kubeadm/reset';
import { shellQuote } from '../common/shell-quote';
import type { StepOutcome } from '../ssh/journal';
import type { Remote } from './host-context';
import { kubeadmOutcome } from './kubeadm-failure';

/** Whatever kubeadm left on the node, in words; empty when it holds nothing of kubeadm's. */
export async function kubeadmLeftovers(node: Remote, what: string): Promise<string[]> {
  const f = parseHostFacts((await node.check(hostFactsCommand(), what)).stdout).files;
  return [...leftovers(f), ...(f.adminConf ? [ADMIN_CONF] : [])];
}

/**
 * `kubeadm reset -f` and the removal of what it leaves (kubeadm/reset.ts: the CNI configuration,
 * kubeconfigs, the Kubernetes and CNI iptables chains and devices), journaled as one step under
 * `stepId`; then a check that nothing of kubeadm is left (HalfDone otherwise). `user`: the SSH login
 * user, whose ~/.kube/config goes too.
 */
export async function resetHere(node: Remote, stepId: string, user: string): Promise<StepOutcome> {
  const { host } = node;
  const home = (await node.run(`getent passwd ${shellQuote(user)} | cut -d: -f6`)).stdout.trim();
  node.step('kubeadm reset -f, then what it leaves');
  const o = await node.journaled({
    id: stepId,
    command: `kubeadm reset -f && ${resetCleanupCommand(home.startsWith('/') && home !== '/' ? { userHome: home } : {})}`,
  });
  kubeadmOutcome(host.name, 'kubeadm reset -f', o);
  const left = await kubeadmLeftovers(node, 'checking what kubeadm reset left');
  if (left.length) {
    throw ApplicationFailure.create({
      message: `${host.name}: kubeadm reset -f finished but left ${left.join(', ')}`,
      type: 'HalfDone',
      nonRetryable: true,
    });
  }
  return o;
}
