// cleanNode: what a failed attempt left on a node is undone before the step runs again:
// `kubeadm reset -f` (journaled), and for a stacked control plane its stale etcd member is removed
// through a healthy control plane, since a member that never started keeps etcd from a quorum.
// The workflow decides when a reset needs an operator; here, the first control plane (it holds the
// cluster's CA and, stacked, its state) is never reset unless an operator's approval comes with it.
import { ApplicationFailure } from '@temporalio/activity';
import { memberOf } from '../kubeadm/etcd';
import { hostFactsCommand, parseHostFacts } from '../kubeadm/host-facts';
import { leftovers } from '../kubeadm/node-state';
import { withSessions } from './host-context';
import { readEtcdMembers, removeEtcdMember } from './cluster-facts';
import { kubeadmOutcome } from './kubeadm-failure';
import type { HostSpec } from '../config/types';
import type { CleanupResult, Journaled, OnHost, Role } from './types';

/**
 * `healthy`: a control plane through which a stacked member is removed (none for the first control
 * plane, which is then reset only with `approvedBy`, the operator who approved it).
 */
export const cleanNode = async ({
  host,
  ssh,
  stepId,
  role,
  stacked,
  healthy,
  approvedBy,
}: OnHost &
  Journaled & { role: Role; stacked: boolean; healthy?: HostSpec; approvedBy?: string }): Promise<CleanupResult> => {
  const done: string[] = [];
  await withSessions(ssh, [host], async (node) => {
    const f = parseHostFacts((await node.check(hostFactsCommand(), 'inspecting the node')).stdout).files;
    if (leftovers(f).length === 0 && !f.adminConf) return;
    if (role === 'control-plane' && !healthy && !approvedBy) {
      throw ApplicationFailure.create({
        message: `${host.name}: refusing kubeadm reset -f on the first control plane without an operator's approval: it holds the cluster's CA${stacked ? ' and etcd data' : ''}`,
        type: 'ResetRefused',
        nonRetryable: true,
      });
    }
    node.step('kubeadm reset -f');
    kubeadmOutcome(host.name, 'kubeadm reset -f', await node.journaled({ id: stepId, command: 'kubeadm reset -f' }));
    done.push(`kubeadm reset -f${approvedBy ? ` (approved by ${approvedBy})` : ''}`);
  });
  if (role === 'control-plane' && stacked && healthy) {
    const removed = await withSessions(ssh, [healthy], async (cp) => {
      const etcd = await readEtcdMembers(cp, [healthy]);
      if ('unknown' in etcd)
        throw ApplicationFailure.retryable(
          `${host.name}: its etcd member cannot be checked through ${healthy.name}: ${etcd.unknown.error}`,
          'EtcdUnhealthy',
        );
      const member = memberOf(etcd.members, host);
      if (!member) return undefined;
      await removeEtcdMember(cp, member.id);
      return member.id;
    });
    if (removed) done.push(`stale etcd member ${removed} removed through ${healthy.name}`);
  }
  return { host: host.name, cleaned: done.length > 0, detail: done.length ? done.join('; ') : 'nothing to clean' };
};
