// The hosts the cluster file marks `remove: true` leave the cluster, before new hosts join: a
// replaced control plane's etcd member is gone before its successor's join checks etcd
// (kubeadm's check-etcd phase). Workers go first, at most workerConcurrency at once; control planes
// one at a time. One approval (the removeNodes gate) covers the removals the plan lists; each runs
// once, like any other step.
import type { HostSpec } from '../../../config/types';
import type { Phase, PhasePlan } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import type { BuildFacts, BuildState } from '../state';

/** The host still belongs to the cluster: kubeadm's files on it, or its Node registered. */
const inCluster = (facts: BuildFacts, h: HostSpec): boolean =>
  (facts.states.get(h.name)?.state ?? 'clean') !== 'clean' ||
  (!('unknown' in facts.cluster) && facts.cluster.nodes.some((n) => n.name === h.name));

const planRemoval = (
  c: BuildCluster,
  facts: BuildFacts,
  marked: HostSpec[],
  action: (h: HostSpec) => string,
): PhasePlan => {
  if (!marked.length) return { skip: 'the cluster file marks none for removal' };
  const hosts = marked.filter((h) => inCluster(facts, h));
  if (!hosts.length)
    return {
      skip: `already out of the cluster (no Node, nothing of kubeadm on the host): ${marked.map((h) => h.name).join(', ')}`,
    };
  return { hosts, actions: hosts.map((h) => ({ host: h.name, role: c.roleOf(h), action: action(h) })) };
};

const removal =
  (c: BuildCluster, limit: number): Phase<BuildFacts, BuildState>['run'] =>
  (ctx, hosts) =>
    ctx.onHosts(hosts, {
      step: 'removeNode',
      limit,
      last: true,
      run: (host) => async (stepId) =>
        (
          await ctx.state.acts.removeNode({
            ...c.at(host),
            stepId,
            role: c.roleOf(host),
            via: c.firstCp,
            stacked: c.stacked,
            controlPlanes: c.spec.controlPlanes,
            kubernetesVersion: c.spec.kubernetesVersion,
          })
        ).detail,
    });

export const removeWorkers = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'removeWorkers',
  title: `Remove the workers marked remove: true, at most ${c.spec.workerConcurrency} at a time`,
  gate: 'removeNodes',
  plan: (facts) =>
    planRemoval(
      c,
      facts,
      c.removedWorkers,
      (h) => `kubectl drain ${h.name}, kubeadm reset -f, kubectl delete node ${h.name}`,
    ),
  run: removal(c, c.spec.workerConcurrency),
});

export const removeControlPlanes = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'removeControlPlanes',
  title: 'Remove the control planes marked remove: true, one at a time',
  gate: 'removeNodes',
  plan: (facts) =>
    planRemoval(
      c,
      facts,
      c.removedControlPlanes,
      (h) =>
        `${c.stacked ? 'check etcd keeps its quorum without it, move the etcd leadership off it, ' : ''}kubectl drain ${h.name}, ` +
        `${c.stacked ? 'remove its etcd member and check the member list, ' : ''}kubeadm reset -f, kubectl delete node ${h.name}; ` +
        `then take ${h.address}:6443 out of the load balancer`,
    ),
  run: removal(c, 1),
});
