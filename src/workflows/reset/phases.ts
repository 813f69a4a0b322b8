// Taking a cluster down, as kubeadm's docs order it ("Clean up" in "Creating a cluster with kubeadm",
// and kubeadm reset's page): the workers first, then the control planes one at a time with the first
// one last (each stacked member leaves etcd while the others still hold a quorum), then the etcd
// hosts kubeadm-ha built. One approval, listing every host, comes before anything changes.
import type { HostSpec } from '../../config/types';
import { RESET_CLEANUP_STEPS } from '../../kubeadm/reset';
import type { PhaseContext } from '../engine/context';
import type { Phase } from '../engine/phase';
import type { BuildCluster } from '../build/cluster';
import { kubeadmState, type ResetFacts, type ResetState } from './state';

type ResetPhase = Phase<ResetFacts, ResetState>;

const withState = (facts: ResetFacts, hosts: HostSpec[]) =>
  hosts.filter((h) => kubeadmState(facts.files.get(h.name)).length > 0);

const RESET_ACTION = `kubeadm reset -f, then remove ${RESET_CLEANUP_STEPS.join('; ')}`;

const planReset = (c: BuildCluster, facts: ResetFacts, hosts: HostSpec[], none: string) => {
  const todo = withState(facts, hosts);
  if (!todo.length) return { skip: none };
  return {
    hosts: todo,
    actions: todo.map((h) => ({
      host: h.name,
      role: c.roleOf(h),
      action: `${RESET_ACTION} (holds ${kubeadmState(facts.files.get(h.name)).join(', ')})`,
    })),
  };
};

const resetOn = (c: BuildCluster, ctx: PhaseContext<ResetState>, hosts: HostSpec[], limit: number) =>
  ctx.onHosts(hosts, {
    step: 'resetNode',
    limit,
    last: true,
    run: (host) => async (stepId) => {
      const first = host.name === c.firstCp.name;
      const approvedBy = ctx.approverOf('reset');
      const r = await ctx.state.acts.resetNode({
        ...c.at(host),
        stepId,
        first,
        ...(approvedBy ? { approvedBy } : {}),
      });
      ctx.state.reset.push(host.name);
      return r.detail;
    },
  });

export const resetPhases = (c: BuildCluster): ResetPhase[] => [
  {
    name: 'inspectHosts',
    title: 'Check SSH access and sudo, and what kubeadm left on every host',
    readOnly: true,
    plan: () => ({
      hosts: c.hosts,
      actions: c.hosts.map((h) => ({ host: h.name, role: c.roleOf(h), action: 'inspect (read-only)' })),
    }),
    run: async (ctx, hosts) => {
      const s = ctx.state;
      await ctx.onHosts(hosts, {
        step: 'inspectHost',
        limit: c.spec.workerConcurrency,
        run: (host) => async () => {
          const f = await s.acts.inspectHost({
            ...c.at(host),
            role: c.roleOf(host),
            kubernetesVersion: c.spec.kubernetesVersion,
            forReset: true,
          });
          s.files.set(host.name, f.files);
          const holds = kubeadmState(f.files);
          return holds.length ? `holds ${holds.join(', ')}` : 'holds nothing of kubeadm';
        },
      });
      s.freezeFacts();
    },
  },
  {
    name: 'approveReset',
    title: 'Approve the reset of every host that holds kubeadm state',
    gate: 'reset',
    readOnly: true,
    plan: (facts) => planReset(c, facts, c.hosts, 'no host holds anything of kubeadm: there is nothing to reset'),
    // The approval is the phase: the steps below read who gave it.
    run: async () => undefined,
  },
  {
    name: 'resetWorkers',
    title: `Reset the workers, at most ${c.spec.workerConcurrency} at a time`,
    plan: (facts) => planReset(c, facts, c.spec.workers, 'no worker holds anything of kubeadm'),
    run: (ctx, hosts) => resetOn(c, ctx, hosts, c.spec.workerConcurrency),
  },
  {
    name: 'resetControlPlanes',
    title: 'Reset the control planes one at a time, the first one last',
    plan: (facts) =>
      planReset(c, facts, [...c.otherCps].reverse().concat(c.firstCp), 'no control plane holds anything of kubeadm'),
    run: (ctx, hosts) => resetOn(c, ctx, hosts, 1),
  },
  ...(c.etcdHosts.length
    ? [
        {
          name: 'resetEtcdHosts',
          title: 'Reset the etcd hosts kubeadm-ha built, one at a time',
          plan: (facts: ResetFacts) =>
            planReset(c, facts, [...c.etcdHosts].reverse(), 'no etcd host holds anything of kubeadm'),
          run: (ctx: PhaseContext<ResetState>, hosts: HostSpec[]) => resetOn(c, ctx, hosts, 1),
        },
      ]
    : []),
];
