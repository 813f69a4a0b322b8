// cleanNode: what a failed attempt left on a node is undone before the step runs again:
// `kubeadm reset -f` (journaled), and for a stacked control plane its stale etcd member is removed
// through a healthy control plane, since a member that never started keeps etcd from a quorum.
import { etcdctlCommand, memberOf } from '../kubeadm/etcd';
import { hostFactsCommand, parseHostFacts } from '../kubeadm/host-facts';
import { leftovers } from '../kubeadm/node-state';
import { KUBECTL } from '../kubeadm/paths';
import type { KubeadmHaActivities } from './types';
import { etcdMembers, withSessions } from './host-context';
import { kubeadmOutcome } from './kubeadm-failure';

export const cleanNode: KubeadmHaActivities['cleanNode'] = async ({ host, ssh, stepId, role, stacked, healthy }) => {
  const done: string[] = [];
  await withSessions(ssh, [host], async (node) => {
    const f = parseHostFacts((await node.check(hostFactsCommand(), 'inspecting the node')).stdout).files;
    if (leftovers(f).length === 0 && !f.adminConf) return;
    node.step('kubeadm reset -f');
    kubeadmOutcome(host.name, 'kubeadm reset -f', await node.journaled({ id: stepId, command: 'kubeadm reset -f' }));
    done.push('kubeadm reset -f');
  });
  if (role === 'control-plane' && stacked && healthy) {
    const removed = await withSessions(ssh, [healthy], async (cp) => {
      const members = await etcdMembers(cp);
      const member = members && memberOf(members, host);
      if (!member) return undefined;
      await cp.check(etcdctlCommand(KUBECTL, healthy.name, ['member', 'remove', member.id]), `etcdctl member remove ${member.id}`);
      return member.id;
    });
    if (removed) done.push(`stale etcd member ${removed} removed through ${healthy.name}`);
  }
  return { host: host.name, cleaned: done.length > 0, detail: done.length ? done.join('; ') : 'nothing to clean' };
};
