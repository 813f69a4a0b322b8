// The whole procedure on real Kubernetes clusters, both topologies and both releases of the real fleet: the real fleet (fleet/real: containerd, runc,
// the real kubelet and sshd in each node's namespaces, HAProxy on the fleet bridge) built by the
// CLI and worker as they ship. Asserted from the nodes and from the cluster itself: one kubeadm init
// in all, every Node Ready with its role, etcd's members are the control planes, CoreDNS runs,
// kubectl answers through the load balancer, and a pod on one worker is reached over the pod
// network from another node. The stacked cluster is then reset with `kubeadm-ha reset`, and a new
// cluster is built on the same hosts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FleetInfo } from '../../fleet';
import { readInvocations } from '../../fleet/invocations';
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
    /** `start` or `reset` of the fleet's cluster file through the CLI, as the demo runs it: its exit code and output. */
    const run = async (verb: 'start' | 'reset') => {
      const out: string[] = [];
      const code = await main(
        [
          verb,
          fleet.clusterFile,
          '--auto-approve',
          'real-cluster test',
          '--exit-on-park',
          '--address',
          rig.server.address,
        ],
        (s) => out.push(s),
      );
      return { code, out: out.join('\n') };
    };

    it('builds the cluster through the CLI, and every node is Ready with its role', async () => {
      const r = await run('start');
      assert.equal(r.code, 0, r.out);
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

    if (!c.fleet.etcdHosts) {
      let caBefore = '';
      it('resets the cluster through the CLI: workers first, then cp3, cp2 and cp1, each once; nothing of kubeadm is left', async () => {
        caBefore = await sh('cp1', 'sha256sum /etc/kubernetes/pki/ca.crt');
        const since = Date.now();
        const r = await run('reset');
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /Reset w\d, w\d, cp3, cp2, cp1: they hold nothing of kubeadm now/);
        const resets = fleet.hosts.map((h) => {
          const inv = readInvocations(fleet.dir, h.name).filter((i) => i.argv[0] === 'reset' && i.start >= since);
          assert.equal(inv.length, 1, `${h.name}: kubeadm reset ran once`);
          assert.equal(inv[0].exitCode, 0, `${h.name}: kubeadm reset succeeded`);
          return { host: h.name, start: inv[0].start, end: inv[0].end ?? Infinity };
        });
        const at = (h: string) => resets.find((r) => r.host === h)!;
        for (const w of ['w1', 'w2'])
          assert.ok(at(w).end <= at('cp3').start, `${w} was reset before the control planes`);
        assert.ok(at('cp3').end <= at('cp2').start && at('cp2').end <= at('cp1').start, 'cp3, cp2, then cp1');
        for (const h of fleet.hosts)
          assert.equal(
            await sh(
              h.name,
              'ls /etc/kubernetes/*.conf /etc/kubernetes/manifests/*.yaml /var/lib/etcd/member 2>/dev/null | wc -l',
            ),
            '0',
            `${h.name}: no kubeconfig, static pod or etcd data left`,
          );
      });

      it('builds a new cluster on the reset hosts: one new init, a new CA, every node joined once', async () => {
        const since = Date.now();
        const r = await run('start');
        assert.equal(r.code, 0, r.out);
        await assertClusterBuilt(fleet, { since });
        assert.notEqual(await sh('cp1', 'sha256sum /etc/kubernetes/pki/ca.crt'), caBefore, 'a new CA');
      });
    }
  });
}
