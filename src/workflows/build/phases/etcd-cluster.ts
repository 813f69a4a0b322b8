// kubeadm's "Set up a High Availability etcd cluster with kubeadm": the first member makes the etcd
// CA, the others copy it, then each makes its certificates and static pod; all healthy before init.
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { actionOn, cleanNode, initDone, joinedFacts, notJoined } from '../host-steps';
import type { BuildFacts, BuildState } from '../state';

export const etcdCluster = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'etcdCluster',
  title: `Build the external etcd cluster on ${c.etcdHosts.map((h) => h.name).join(', ')}`,
  gate: 'etcd',
  plan: (facts) => {
    if (initDone(c, facts))
      return {
        skip: `${c.firstCp.name} is initialised: the control plane already uses etcd (${joinedFacts(facts, c.etcdHosts)})`,
      };
    const building = notJoined(facts, c.etcdHosts);
    const actions = c.etcdHosts.map((h) =>
      building.includes(h)
        ? actionOn(
            c,
            facts,
            h,
            'buildEtcdMember',
            h === c.etcdHosts[0]
              ? 'make the etcd CA, certificates and static pod'
              : `copy the etcd CA from ${c.etcdHosts[0].name}, make certificates and static pod`,
          )
        : { host: h.name, role: 'etcd' as const, action: 'keep: already a member; check its health' },
    );
    return { hosts: c.etcdHosts, actions };
  },
  run: async (ctx) => {
    const b = ctx.state;
    const notYet = (hosts: typeof c.etcdHosts) =>
      hosts.filter((h) => !ctx.skipped.includes(h.name) && b.states.get(h.name)?.state !== 'joined');
    const build = (host: typeof c.firstCp) => async (stepId: string) =>
      (
        await b.acts.buildEtcdMember({
          ...c.at(host),
          stepId,
          kubernetesVersion: c.spec.kubernetesVersion,
          members: c.etcdHosts,
          ...(c.spec.kubeletConfiguration ? { kubeletConfiguration: c.spec.kubeletConfiguration } : {}),
          ...(host === c.etcdHosts[0] ? {} : { caSource: c.etcdHosts[0] }),
        })
      ).detail;
    const steps = { step: 'buildEtcdMember', run: build, clean: cleanNode(b), joins: true };
    const [first, ...others] = notYet(c.etcdHosts).length ? c.etcdHosts : [];
    if (first && notYet([first]).length) await ctx.onHosts([first], { ...steps, limit: 1 });
    const rest = notYet(others);
    await ctx.onHosts(rest, { ...steps, limit: rest.length });
    const check = c.etcdHosts[0];
    await ctx.onFirst(
      'checkEtcdCluster',
      async () => (await b.acts.checkEtcdCluster({ ...c.at(check), members: c.etcdHosts })).detail,
      check,
    );
  },
});
