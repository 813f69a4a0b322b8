// The whole procedure on real Kubernetes clusters, both topologies and both releases of the real fleet: the real fleet (fleet/real: containerd, runc,
// the real kubelet and sshd in each node's namespaces, HAProxy on the fleet bridge) built by the
// CLI and worker as they ship. Asserted from the nodes and from the cluster itself: one kubeadm init
// in all, every Node Ready with its role, etcd's members are the control planes, CoreDNS runs,
// kubectl answers through the load balancer, and a pod on one worker is reached over the pod
// network from another node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FleetInfo } from '../../fleet';
import { REAL_FLEET_VERSIONS } from '../../fleet/real-kubeadm';
import { main } from '../../src/client/cli';
import { KUBECTL } from '../../src/kubeadm/paths';
import { sessionPool } from '../../src/ssh/pool';
import { assertClusterBuilt, onHost, Rig } from '../helpers/harness';
import { assertCoreDnsThroughLb, assertPodNetwork } from '../helpers/real-cluster';

const [OLDER, NEWEST] = REAL_FLEET_VERSIONS;

for (const c of [
  {
    title: `a real ${NEWEST} cluster, stacked, 3 control planes and 2 workers, certificates copied`,
    version: NEWEST,
    fleet: { controlPlanes: 3, workers: 2 },
  },
  {
    title: `a real ${OLDER} cluster, external etcd built by kubeadm-ha on 3 hosts, 3 control planes and 1 worker`,
    version: OLDER,
    fleet: { controlPlanes: 3, workers: 1, etcdHosts: 3 },
  },
]) {
  describe(c.title, () => {
    const rig = new Rig();
    let fleet: FleetInfo;
    before(async () => {
      await rig.up();
      fleet = await rig.fleet({ ...c.fleet, real: true, kubernetesVersion: c.version });
    });
    after(async () => {
      await sessionPool().closeAll();
      await rig.down();
    });

    const sh = (host: string, cmd: string) => onHost(fleet, host, cmd);

    it('builds the cluster through the CLI, and every node is Ready with its role', async () => {
      const out: string[] = [];
      const code = await main(
        [
          'start',
          fleet.clusterFile,
          '--auto-approve',
          'real-cluster test',
          '--exit-on-park',
          '--address',
          rig.server.address,
        ],
        (s) => out.push(s),
      );
      assert.equal(code, 0, out.join('\n'));
      await assertClusterBuilt(fleet);
      const nodes = await sh(
        'cp1',
        `${KUBECTL} get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}{"\\n"}{end}'`,
      );
      for (const line of nodes.split('\n'))
        assert.match(
          line,
          new RegExp(`^\\S+ ${c.version.replace(/\./g, '\\.')} containerd://1\\.6\\.`),
          'the real kubelet of the release, on containerd',
        );
    });

    if (c.fleet.etcdHosts) {
      it("etcd's own member list is the etcd hosts, each running etcd as a static pod under its own kubelet", async () => {
        const etcd = fleet.hosts.filter((h) => h.role === 'etcd');
        const pki = '/etc/kubernetes/pki/etcd';
        const list = await sh(
          'etcd1',
          `etcdctl --endpoints https://${etcd[0].address}:2379 --cacert ${pki}/ca.crt --cert ${pki}/healthcheck-client.crt --key ${pki}/healthcheck-client.key member list -w json`,
        );
        const members = (JSON.parse(list) as { members: Array<{ name: string; clientURLs: string[] }> }).members;
        assert.deepEqual(
          members.map((m) => m.name).sort(),
          etcd.map((h) => h.name),
          'no control plane in etcd',
        );
        for (const h of etcd) {
          assert.match(
            await sh(h.name, 'cat /proc/$(cat /run/kha-node/host/run/kubelet.pid)/cmdline | tr "\\0" " "'),
            /^\/usr\/bin\/kubelet --config=\/etc\/systemd\/system\/kubelet\.service\.d\/kubelet\.conf$/,
          );
          assert.match(await sh(h.name, 'ctr -n k8s.io containers ls'), /registry\.k8s\.io\/etcd:/);
        }
      });
    }

    it('runs CoreDNS, and kubectl answers through the load balancer', () => assertCoreDnsThroughLb(fleet));

    it('reaches a pod on a worker from another node over the pod network', () =>
      assertPodNetwork(fleet, c.fleet.workers > 1 ? 'w2' : 'cp2'));
  });
}
