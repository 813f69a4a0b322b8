// The end of the page: every node registered with its role, and Ready.
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import type { BuildFacts, BuildState } from '../state';

export const verifyNodes = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'verifyNodes',
  title: 'Verify every node is registered with its role and Ready',
  readOnly: true,
  plan: () => ({
    hosts: [c.firstCp],
    actions: [
      {
        host: c.firstCp.name,
        role: 'control-plane',
        action: 'check every node is registered with its role and Ready (read-only)',
      },
    ],
  }),
  run: async (ctx) => {
    const b = ctx.state;
    // etcd hosts run no kubelet that joins the cluster: they are no Nodes.
    const expected = [...c.spec.controlPlanes, ...c.spec.workers]
      .filter((h) => !ctx.skipped.includes(h.name))
      .map((h) => ({ name: h.name, role: c.roleOf(h) }));
    await ctx.onFirst('verifyNodes', async () => {
      b.nodes = (await b.acts.verifyNodes({ ...c.at(c.firstCp), expected })).nodes;
      return `${b.nodes.length} nodes Ready`;
    });
  },
});
