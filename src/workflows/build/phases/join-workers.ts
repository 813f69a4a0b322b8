// The workers, at most workerConcurrency at once; one that cannot join parks while the others go on.
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { actionOn, cleanNode, join, joinedFacts, notJoined } from '../host-steps';
import type { BuildFacts, BuildState } from '../state';

export const joinWorkers = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'joinWorkers',
  title: `Join the workers, at most ${c.spec.workerConcurrency} at a time`,
  gate: 'joinWorkers',
  plan: (facts) => {
    const { workers } = c.spec;
    if (workers.length === 0) return { skip: 'the cluster file lists no workers' };
    const hosts = notJoined(facts, workers);
    if (!hosts.length) return { skip: `every worker has joined: ${joinedFacts(facts, workers)}` };
    return { hosts, actions: hosts.map((h) => actionOn(c, facts, h, 'joinNode', 'kubeadm join')) };
  },
  run: async (ctx, hosts) => {
    const b = ctx.state;
    await ctx.onHosts(hosts, {
      step: 'joinNode',
      limit: c.spec.workerConcurrency,
      run: join(b),
      clean: cleanNode(b),
      joins: true,
    });
    await b.tokens.deleteMinted();
  },
});
