// The other control planes, one at a time, as the procedure recommends (and requires before kubeadm
// 1.15). A failed try is cleaned by a reset, which also removes the shared certificates: in copy
// mode they are copied again. In upload mode the certificate key leaves the first control plane
// once they have all joined.
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { actionOn, cleanNode, copyCerts, join, joinedFacts, notJoined, removeCertificateKey } from '../host-steps';
import type { BuildFacts, BuildState } from '../state';

export const joinControlPlanes = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'joinControlPlanes',
  title: 'Join the other control planes, one at a time',
  ...(c.upload ? { gate: 'joinControlPlanes' as const } : {}),
  plan: (facts) => {
    const hosts = notJoined(facts, c.otherCps);
    if (!hosts.length) return { skip: `every other control plane has joined: ${joinedFacts(facts, c.otherCps)}` };
    const verb = `kubeadm join --control-plane${c.upload ? ' --certificate-key (downloads the shared certificates)' : ''}`;
    // In copy mode distributeCerts has already cleaned a half-done node before it copied.
    return {
      hosts,
      actions: hosts.map((h) =>
        c.upload
          ? actionOn(c, facts, h, 'joinNode', verb)
          : { host: h.name, role: 'control-plane' as const, action: verb },
      ),
    };
  },
  run: async (ctx, hosts) => {
    const b = ctx.state;
    await ctx.onHosts(hosts, {
      step: 'joinNode',
      limit: 1,
      run: join(b),
      joins: true,
      clean: (host) => async (stepId) => {
        const cleaned = await cleanNode(b)(host)(stepId);
        if (c.upload) return cleaned;
        const copied = (await copyCerts(b, host, `${stepId}.certs`)).detail;
        return cleaned ? `${cleaned}; ${copied}` : undefined;
      },
    });
    await b.tokens.deleteMinted();
    await removeCertificateKey(ctx);
  },
});
