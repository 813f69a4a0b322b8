// The pod network add-on, applied once from the first control plane, then the kube-system pods
// running: the page installs the CNI right after init, before the other nodes join.
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { initDone } from '../host-steps';
import type { BuildFacts, BuildState } from '../state';

export const installCni = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'installCni',
  title: 'Apply the CNI and wait for the kube-system pods',
  plan: (facts) => {
    const nodes = 'unknown' in facts.cluster ? [] : facts.cluster.nodes;
    const done = initDone(c, facts);
    if (done && nodes.length && nodes.every((n) => n.ready))
      return { skip: 'the CNI works: every registered node is Ready' };
    // A node is Ready only once its network plugin is: one Ready node shows the CNI was applied
    // (a NotReady one has another cause, such as a stopped kubelet, which a new apply does not heal).
    const ready = nodes.filter((n) => n.ready);
    if (done && ready.length && facts.cniFromReadyNode()) {
      const notReady = nodes
        .filter((n) => !n.ready)
        .map((n) => n.name)
        .join(', ');
      return {
        skip: `the CNI works: ${ready.length} of ${nodes.length} registered nodes are Ready (NotReady: ${notReady})`,
      };
    }
    return {
      hosts: [c.firstCp],
      actions: [
        {
          host: c.firstCp.name,
          role: 'control-plane',
          action: `kubectl apply -f ${c.spec.cniManifest}, then wait for the kube-system pods`,
        },
      ],
    };
  },
  run: async (ctx) => {
    const { acts } = ctx.state;
    await ctx.onFirst(
      'installCni',
      async (stepId) =>
        (await acts.installCni({ ...c.at(c.firstCp), stepId, manifestFile: c.spec.cniManifest })).detail,
    );
    await ctx.onFirst('waitForSystemPods', async () => (await acts.waitForSystemPods(c.at(c.firstCp))).detail);
  },
});
