// removeNode: takes one host out of the cluster, as kubeadm's docs ("Remove the node") and Cluster
// API's KubeadmControlPlane (controlplane/kubeadm scale.go, remediation.go) do it. From `via`, a
// control plane that stays: for a stacked control plane, refuse when etcd would lose its quorum and
// move the leadership off it; drain the Node; remove its etcd member and check that it is gone
// (kubeadm reset only warns when its own removal fails). Then `kubeadm reset -f` on the host itself
// (journaled) and delete the Node. Every part is idempotent, so a retry after any of them goes on
// from where the cluster and the host say it stopped.
import { ApplicationFailure } from '@temporalio/activity';
import type { HostSpec } from '../config/types';
import { deleteNodeCommand, nodeExistsCommand } from '../kubeadm/drain';
import {
  etcdGatewayCommand,
  type EtcdMember,
  memberOf,
  parseGatewayHealth,
  parseGatewayLeader,
  removalQuorumProblem,
} from '../kubeadm/etcd';
import { KUBECTL } from '../kubeadm/paths';
import { readEtcdMembers, removeEtcdMember } from './cluster-facts';
import { drain } from './drain';
import { refuse } from './kubeadm-failure';
import { type Remote, withSessions } from './host-context';
import { kubeadmLeftovers, resetHere } from './node-reset';
import type { Journaled, OnHost, Role, StepResult } from './types';

/** The host part of a member's client URL (https://10.0.0.7:2379, https://[fd00::7]:2379). */
const clientAddress = (m: EtcdMember): string | undefined => {
  const u = m.clientURLs[0];
  return u ? new URL(u).hostname.replace(/^\[|\]$/g, '') : undefined;
};

export const removeNode = async ({
  host,
  ssh,
  stepId,
  role,
  via,
  stacked,
  controlPlanes,
  kubernetesVersion,
}: OnHost &
  Journaled & {
    role: Role;
    /** A control plane that stays, with admin.conf: the cluster is changed through it. */
    via: HostSpec;
    stacked: boolean;
    /** The control planes that stay: where etcd's member list is read. */
    controlPlanes: HostSpec[];
    /** The cluster's, and so its kubectl's: the drain's flags depend on it. */
    kubernetesVersion: string;
  }): Promise<StepResult> => {
  const done: string[] = [];
  // A host that holds nothing of kubeadm any more was reset by an earlier attempt: no drain then
  // (its pods could never confirm their end), only what is left in the cluster.
  const resetAlready = await withSessions(
    ssh,
    [host],
    async (node) => (await kubeadmLeftovers(node, 'reading what kubeadm left on the host')).length === 0,
  ).catch(() => false);
  await withSessions(ssh, [via], async (cp) => {
    const member =
      role === 'control-plane' && stacked ? await leaveEtcdSafely(cp, host, controlPlanes, done) : undefined;
    if (!resetAlready) done.push(...(await drain(cp, host, { kubectlVersion: kubernetesVersion })));
    if (member) await removeMember(cp, host, member, controlPlanes, done);
  });
  if (!resetAlready)
    await withSessions(ssh, [host], async (node) => {
      await resetHere(node, stepId, ssh.user);
      done.push('kubeadm reset -f');
    });
  await withSessions(ssh, [via], async (cp) => {
    await cp.check(deleteNodeCommand(KUBECTL, host.name), `deleting Node ${host.name}`);
    if ((await cp.check(nodeExistsCommand(KUBECTL, host.name), `checking Node ${host.name} is gone`)).stdout.trim())
      throw ApplicationFailure.retryable(
        `${host.name}: its Node is still registered after kubectl delete`,
        'StepFailed',
      );
    done.push(`Node ${host.name} deleted`);
  });
  if (role === 'control-plane')
    done.push(`take ${host.address}:6443 out of the load balancer's backends (kubeadm-ha does not manage it)`);
  return { host: host.name, alreadyDone: false, detail: done.join('; ') };
};

/** The member of `host`, once it is safe to remove: the others keep a quorum, and it no longer leads. */
async function leaveEtcdSafely(
  cp: Remote,
  host: HostSpec,
  controlPlanes: HostSpec[],
  done: string[],
): Promise<EtcdMember | undefined> {
  const etcd = await readEtcdMembers(cp, controlPlanes);
  if ('unknown' in etcd)
    throw ApplicationFailure.retryable(
      `${host.name}: etcd's members cannot be read: ${etcd.unknown.error}`,
      'EtcdUnhealthy',
    );
  const member = memberOf(etcd.members, host);
  if (!member) return undefined;
  const healthy = new Set<string>();
  for (const m of etcd.members) {
    const address = clientAddress(m);
    if (address && parseGatewayHealth((await cp.run(etcdGatewayCommand(address, { health: true }))).stdout))
      healthy.add(m.id);
  }
  const problem = removalQuorumProblem(etcd.members, healthy, member.id);
  if (problem) throw refuse('QuorumRefused', `${host.name} was not removed: ${problem}`);
  const status = await cp.run(etcdGatewayCommand(cp.host.address, { status: true }));
  const leader = status.exitCode === 0 ? parseGatewayLeader(status.stdout) : undefined;
  if (leader === member.id) {
    const to = etcd.members.find((m) => m.id !== member.id && healthy.has(m.id))!;
    cp.step(`moving the etcd leadership from ${host.name} to ${to.name}`);
    await cp.check(etcdGatewayCommand(host.address, { transfer: to.id }), `moving the etcd leadership to ${to.name}`);
    done.push(`etcd leadership moved to ${to.name}`);
  }
  return member;
}

async function removeMember(
  cp: Remote,
  host: HostSpec,
  member: EtcdMember,
  controlPlanes: HostSpec[],
  done: string[],
): Promise<void> {
  cp.step(`removing etcd member ${member.id} (${host.name})`);
  await removeEtcdMember(cp, member.id);
  const after = await readEtcdMembers(cp, controlPlanes);
  if ('unknown' in after)
    throw ApplicationFailure.retryable(
      `${host.name}: etcd's members cannot be read: ${after.unknown.error}`,
      'EtcdUnhealthy',
    );
  if (memberOf(after.members, host))
    throw ApplicationFailure.retryable(
      `${host.name}: etcd member ${member.id} is still listed after its removal`,
      'EtcdUnhealthy',
    );
  done.push(
    `etcd member ${member.id} removed (${after.members.length} left: ${after.members.map((m) => m.name).join(', ')})`,
  );
}
