// kubeadm init on the first control plane, with the load balancer as controlPlaneEndpoint; with an
// external etcd, its client certificates go there first (again after a reset, which removes them).
import { isBuiltEtcd } from '../../../config/types';
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { actionOn, cleanNode, initDone, readVia, removeCertificateKey } from '../host-steps';
import type { BuildFacts, BuildState } from '../state';

export const init = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'init',
  title: `kubeadm init on ${c.firstCp.name}`,
  gate: 'init',
  plan: (facts) => {
    const s = facts.states.get(c.firstCp.name);
    if (initDone(c, facts))
      return {
        skip: `${c.firstCp.name} is already initialised: ${s?.state === 'joined' ? s.detail : ''}${readVia(facts)}`,
      };
    const verb = `kubeadm init${c.upload ? ' --upload-certs' : ''}${c.spec.etcd ? ', after installing the etcd client certificates' : ''}`;
    return { hosts: [c.firstCp], actions: [actionOn(c, facts, c.firstCp, 'kubeadmInit', verb)] };
  },
  run: async (ctx, hosts) => {
    const b = ctx.state;
    const { etcd } = c.spec;
    await ctx.onHosts(hosts, {
      step: 'kubeadmInit',
      limit: 1,
      clean: cleanNode(b),
      joins: true,
      run: (host) => async (stepId) => {
        if (etcd) {
          await b.acts.installEtcdClientCerts({
            ...c.at(host),
            stepId: `${stepId}.etcd-client`,
            from: isBuiltEtcd(etcd)
              ? { host: c.etcdHosts[0] }
              : { caFile: etcd.caFile, certFile: etcd.certFile, keyFile: etcd.keyFile },
          });
        }
        const r = await b.acts.kubeadmInit({
          ...c.at(host),
          stepId,
          stacked: c.stacked,
          config: c.initConfig(),
          ...(c.upload ? { uploadCerts: true } : {}),
        });
        b.caCertHash = r.caCertHash;
        if (c.upload && !r.alreadyDone) b.certsUploadedAt = Date.now();
        return r.detail;
      },
    });
    // No other control plane will join with the uploaded certificates: their key goes now.
    if (c.otherCps.length === 0) await removeCertificateKey(ctx);
  },
});
