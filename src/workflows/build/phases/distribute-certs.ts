// The page's manual certificate distribution: the shared CA and service-account keys (and, for 1.13,
// admin.conf) from the first control plane to each joining one. With `certificates: upload` the
// joining control planes download them with the certificate key instead.
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { actionOn, cleanNode, copyCerts, joinedFacts, notJoined } from '../host-steps';
import type { BuildFacts, BuildState } from '../state';

export const distributeCerts = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'distributeCerts',
  title: 'Copy the shared certificates to the other control planes',
  ...(c.upload ? {} : { gate: 'joinControlPlanes' as const }),
  plan: (facts) => {
    if (c.upload) return { skip: 'certificates: upload; the control planes download them with the certificate key' };
    const hosts = notJoined(facts, c.otherCps);
    if (!hosts.length) return { skip: `every other control plane has joined: ${joinedFacts(facts, c.otherCps)}` };
    return {
      hosts,
      actions: hosts.map((h) =>
        actionOn(c, facts, h, 'distributeCerts', `copy the shared certificates from ${c.firstCp.name}`),
      ),
    };
  },
  run: async (ctx, hosts) => {
    const b = ctx.state;
    await ctx.onHosts(hosts, {
      step: 'distributeCerts',
      limit: hosts.length,
      clean: cleanNode(b),
      run: (host) => async (stepId) => (await copyCerts(b, host, stepId)).detail,
    });
  },
});
