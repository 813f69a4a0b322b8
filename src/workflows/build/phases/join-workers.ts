// The workers, at most workerConcurrency at once; one that cannot join parks while the others go on.
// A large fleet's workers join in waves, each its own child workflow (../waves.ts), which mints and
// deletes its own join token.
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { actionOn, joinedFacts, joinWorkerSteps, notJoined } from '../host-steps';
import { inWaves } from '../waves';
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
    if (b.waves) {
      await inWaves(ctx, 'joinNode', hosts);
      return;
    }
    await ctx.onHosts(hosts, joinWorkerSteps(b));
    await b.tokens.deleteMinted();
  },
});
