// The kubeadm page's first step: the load balancer answers on its port (a refused connection is
// fine before any API server runs; a timeout is not), tried from the first control plane.
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { initDone, readVia } from '../host-steps';
import type { BuildFacts, BuildState } from '../state';

export const probeLoadBalancer = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'probeLoadBalancer',
  title: 'Probe the load balancer from the first control plane',
  plan: (facts) =>
    initDone(c, facts)
      ? { skip: `${c.firstCp.name} is already initialised: the cluster's API server answered${readVia(facts)}` }
      : {
          hosts: [c.firstCp],
          actions: [
            { host: c.firstCp.name, role: 'control-plane', action: `connect to the load balancer ${c.endpoint}` },
          ],
        },
  run: async (ctx) => {
    const { acts } = ctx.state;
    await ctx.onFirst(
      'probeLoadBalancer',
      async () => (await acts.probeLoadBalancer({ ...c.at(c.firstCp), loadBalancer: c.spec.loadBalancer })).message,
    );
  },
});
