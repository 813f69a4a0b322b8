// Never destroy what works. A stacked 3+3 cluster is built once on the local fleet (stand-in
// control plane, real sshd, HAProxy, dev server and worker), then started again under each fault
// that once made a re-run wipe it: exec into etcd refused, the load balancer down, the first API
// server stopped, a kubelet stopped, the etcd member list unreadable by every means. Each re-run
// must change nothing (the hosts' kubeadm invocation log: no reset, init or join; the CA and etcd
// data on cp1 are the first run's). Then the two half-done cases: a worker without its Node is
// reset and rejoined by itself; a control plane that is an etcd member waits for an operator. And
// the same first case for external etcd.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { clearFaults, readInvocations, setFault, type FleetInfo } from '../../fleet';
import * as activities from '../../src/activities';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import { etcdGatewayCommand, parseGatewayMembers } from '../../src/kubeadm/etcd';
import { parseGetNodes } from '../../src/kubeadm/kubectl';
import { isControlPlaneRow } from '../../src/kubeadm/node-state';
import { KUBECTL } from '../../src/kubeadm/paths';
import { workflowIdFor } from '../../src/shared/definitions';
import { sessionPool } from '../../src/ssh/pool';
import type { HaClusterResult } from '../../src/workflows/ha-cluster';
import { eventually, onHost, progressMemo, Rig } from '../helpers/harness';

const EXEC_FORBIDDEN =
  'Error from server (Forbidden): pods "etcd-cp1" is forbidden: User "kubernetes-admin" cannot create resource "pods/exec" in API group "" in the namespace "kube-system"';

describe('a re-run never destroys what works', () => {
  const rig = new Rig();
  const server = rig.server;
  before(() => rig.up());
  after(async () => {
    await sessionPool().closeAll();
    await rig.down();
  });

  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await main([...argv, '--address', server.address], (s) => out.push(s));
    return { code, out: out.join('\n') };
  };
  const sh = onHost;

  /** What identifies the cluster on cp1: its CA, its etcd data, and the etcd member IDs. */
  const identity = async (f: FleetInfo) => ({
    ca: await sh(f, 'cp1', 'sha256sum /etc/kubernetes/pki/ca.crt'),
    etcdData: await sh(f, 'cp1', 'find /var/lib/etcd -type f -print0 | sort -z | xargs -0 sha256sum'),
    members: parseGatewayMembers(
      await sh(f, 'cp1', etcdGatewayCommand(f.hosts.find((h) => h.name === 'cp1')!.address, { list: true })),
    )
      .map((m) => `${m.name}=${m.id}`)
      .sort(),
  });
  /** Every node of the cluster file registered, Ready and with its role. */
  const assertAllReady = async (f: FleetInfo) => {
    const rows = parseGetNodes(await sh(f, 'cp1', `${KUBECTL} get nodes`));
    assert.deepEqual(
      rows.map((r) => `${r.name} ${r.ready} ${isControlPlaneRow(r)}`),
      ['cp1 true true', 'cp2 true true', 'cp3 true true', 'w1 true false', 'w2 true false', 'w3 true false'],
    );
  };
  /** Every kubeadm command run on the hosts since `t0`, but `kubeadm version` (inspection reads it). */
  const kubeadmSince = (f: FleetInfo, t0: number) =>
    f.hosts.flatMap((h) =>
      readInvocations(f.dir, h.name)
        .filter((i) => i.start >= t0 && i.argv[0] !== 'version')
        .map((i) => `${h.name} kubeadm ${i.argv.join(' ')}`),
    );
  const result = async (name: string) => {
    const { client, close } = await server.client();
    try {
      return (await client.workflow.getHandle(workflowIdFor(name)).result()) as HaClusterResult;
    } finally {
      await close();
    }
  };
  const runId = async (name: string) => {
    const { client, close } = await server.client();
    try {
      return (await client.workflow.getHandle(workflowIdFor(name)).describe()).runId;
    } catch {
      return undefined;
    } finally {
      await close();
    }
  };
  /** The progress of the run started after `before` (a run id), once it exists. */
  const memo = async (name: string, before: string | undefined) => {
    const { client, close } = await server.client();
    try {
      if ((await client.workflow.getHandle(workflowIdFor(name)).describe()).runId === before) return undefined;
      return await progressMemo(client, name);
    } finally {
      await close();
    }
  };

  describe('stacked etcd, 3 control planes and 3 workers', () => {
    let f: FleetInfo;
    let name: string;
    let built: Awaited<ReturnType<typeof identity>>;
    before(async () => {
      f = await rig.fleet({ controlPlanes: 3, workers: 3 });
      name = loadClusterFile(f.clusterFile).name;
      const first = await cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
      assert.equal(first.code, 0, first.out);
      built = await identity(f);
    });

    /** Starts the run again; `during` acts while it goes on. Asserts nothing changed; returns the output. */
    const unchanged = async (during?: (previousRun: string | undefined) => Promise<void>): Promise<string> => {
      const t0 = Date.now();
      const previous = await runId(name);
      const run = cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
      await during?.(previous);
      const { code, out } = await run;
      assert.equal(code, 0, out);
      assert.deepEqual(kubeadmSince(f, t0), [], 'no kubeadm command that changes a host ran');
      assert.match(out, /Nothing to do: the hosts and the cluster already match the cluster file/);
      for (const p of [
        'probeLoadBalancer',
        'init',
        'installCni',
        'distributeCerts',
        'joinControlPlanes',
        'joinWorkers',
      ])
        assert.match(out, new RegExp(`phase ${p}: skipped`));
      assert.deepEqual(await identity(f), built, "the CA, the etcd data and the members on cp1 are the first run's");
      return out;
    };

    it('nothing changed', async () => {
      const out = await unchanged();
      assert.match(
        out,
        /every other control plane has joined: cp2: Node cp2 is a control plane, etcd member [0-9a-f]+; cp3:/,
      );
    });

    it('kubectl exec into the etcd pods refused: the members are read through the etcd gateway', async () => {
      setFault(f.dir, {
        host: 'cp1',
        command: `${KUBECTL} -n kube-system exec`,
        mode: 'fail',
        message: EXEC_FORBIDDEN,
      });
      try {
        const out = await unchanged();
        assert.match(out, /etcd members: etcd gateway on cp1/);
      } finally {
        clearFaults(f.dir);
      }
    });

    it("the load balancer down during inspection: the Nodes are read from cp1's own API server", async () => {
      setFault(f.dir, { lb: 'drop' });
      try {
        const out = await unchanged(async (previous) => {
          await eventually(
            'inspection done',
            async () =>
              (await memo(name, previous))?.phases.find((p) => p.name === 'inspectHosts')?.state === 'done' ||
              undefined,
            120_000,
            500,
          );
          clearFaults(f.dir);
        });
        assert.match(
          out,
          /read cp1's API server https:\/\/[0-9.]+:6443 \(through the load balancer: exit 1: Unable to connect to the server: .*i\/o timeout/,
        );
      } finally {
        clearFaults(f.dir);
      }
    });

    it("cp1's API server stopped", async () => {
      setFault(f.dir, { host: 'cp1', component: 'kube-apiserver', state: 'stopped' });
      try {
        await unchanged();
      } finally {
        clearFaults(f.dir);
      }
    });

    it("a control plane's kubelet stopped: its Node is NotReady, it is still joined, and the CNI is not applied again", async () => {
      await sh(f, 'cp2', 'systemctl stop kubelet');
      try {
        const out = await unchanged(async (previous) => {
          await eventually(
            'verifyNodes waiting',
            async () => (await memo(name, previous))?.phase === 'verifyNodes' || undefined,
            120_000,
            500,
          );
          await sh(f, 'cp2', 'systemctl start kubelet');
        });
        assert.match(out, /phase installCni: skipped .*NotReady: cp2/);
      } finally {
        await sh(f, 'cp2', 'systemctl start kubelet');
      }
    });

    it('the etcd member list unreadable by every means: each control plane parks as unknown, naming the command and its error; a retry after the fix goes on', async () => {
      const t0 = Date.now();
      setFault(f.dir, {
        host: 'cp1',
        command: `${KUBECTL} -n kube-system exec`,
        mode: 'fail',
        message: EXEC_FORBIDDEN,
      });
      for (const cp of ['cp1', 'cp2', 'cp3']) setFault(f.dir, { host: cp, component: 'etcd', state: 'stopped' });
      const previous = await runId(name);
      const run = cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
      try {
        await eventually(
          'three control planes parked',
          async () => (await memo(name, previous))?.parked.length === 3 || undefined,
          180_000,
          500,
        );
        const status = await cli('status', name);
        assert.match(status.out, /classifyNode on cp2 \(control-plane\) is parked/);
        assert.match(
          status.out,
          /state unknown: whether cp2 is an etcd member decides whether it is joined; the etcd member list could not be established: `curl -sS .*\/v3\/cluster\/member\/list'` exited 7: etcd gateway on cp1: exit 7: .*Failed to connect.*kubectl exec etcd-cp1: exit 1: Error from server \(Forbidden\)/,
        );
        assert.match(
          status.out,
          /a retry will:\n\s+1\. inspect cp2 and read the cluster again \(nothing on any host changes\)/,
        );
        assert.match(status.out, /kubeadm-ha retry .* cp2 .*\n\s+kubeadm-ha abort .* cp2/);
        assert.doesNotMatch(status.out, /kubeadm-ha skip .* cp2/);
        assert.deepEqual(kubeadmSince(f, t0), [], 'nothing was reset, initialised or joined on a guess');
        clearFaults(f.dir);
        for (const cp of ['cp1', 'cp2', 'cp3'])
          assert.equal((await cli('retry', name, cp, '--as', 'alice', '--reason', 'etcd port open again')).code, 0);
        const { code, out } = await run;
        assert.equal(code, 0, out);
        assert.match(out, /Nothing to do/);
        assert.deepEqual(kubeadmSince(f, t0), []);
        assert.deepEqual(await identity(f), built);
      } finally {
        clearFaults(f.dir);
        await run.catch(() => undefined);
      }
    });

    it('a half-done worker (kubelet.conf, no Node) on a cluster that answers is still reset and rejoined by itself', async () => {
      await sh(f, 'cp1', `${KUBECTL} delete node w1`);
      const t0 = Date.now();
      const { code, out } = await cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
      assert.equal(code, 0, out);
      // Besides the join token, minted and deleted on cp1, only w1 changed.
      const since = kubeadmSince(f, t0).map((l) => l.split(' ').slice(0, 4).join(' '));
      assert.deepEqual(
        since.filter((l) => !l.startsWith('cp1 kubeadm token')),
        ['w1 kubeadm reset -f', 'w1 kubeadm join --config'],
      );
      assert.deepEqual(
        since
          .filter((l) => l.startsWith('cp1'))
          .map((l) => l.split(' ')[3])
          .sort(),
        ['create', 'delete'],
      );
      assert.deepEqual(
        (await result(name)).decisions.filter((d) => d.host),
        [],
        'no operator was asked',
      );
      assert.deepEqual(await identity(f), built);
      await assertAllReady(f);
    });

    it('a half-done control plane that is an etcd member parks for approval before its reset, and rejoins as a new member', async () => {
      await sh(f, 'cp3', 'rm /etc/kubernetes/manifests/kube-apiserver.yaml');
      const t0 = Date.now();
      const previous = await runId(name);
      const run = cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
      try {
        await eventually(
          'cp3 parked',
          async () => (await memo(name, previous))?.parked.some((p) => p.host === 'cp3') || undefined,
          120_000,
          500,
        );
        const status = await cli('status', name);
        assert.match(
          status.out,
          /reset needs an operator: cp3 is half-done \(.*missing manifests kube-apiserver\) and belongs to a live cluster: Node cp3 is registered; etcd member [0-9a-f]+ \(cp3\) is listed/,
        );
        assert.match(
          status.out,
          /a retry will:\n\s+1\. kubeadm reset -f on cp3, removing kubelet\.conf, .*etcd member [0-9a-f]+\n\s+2\. remove cp3's etcd member through cp1, if it is listed/,
        );
        assert.deepEqual(kubeadmSince(f, t0), [], 'nothing is reset before the operator decides');
        assert.equal((await cli('retry', name, 'cp3', '--as', 'alice', '--reason', 'CHG-9: rebuild cp3')).code, 0);
        const { code, out } = await run;
        assert.equal(code, 0, out);
      } finally {
        await run.catch(() => undefined);
      }
      const since = kubeadmSince(f, t0).map((l) => l.split(' ').slice(0, 4).join(' '));
      assert.deepEqual(
        since.filter((l) => !l.startsWith('cp1 kubeadm token')),
        ['cp3 kubeadm reset -f', 'cp3 kubeadm join --config'],
      );
      const now = await identity(f);
      assert.equal(now.ca, built.ca);
      assert.deepEqual(
        now.members.filter((m) => !m.startsWith('cp3=')),
        built.members.filter((m) => !m.startsWith('cp3=')),
      );
      assert.notDeepEqual(now.members, built.members, 'cp3 was removed from etcd and joined as a new member');
      const d = (await result(name)).decisions.find((x) => x.host === 'cp3');
      assert.deepEqual([d?.verdict, d?.approver], ['retry', 'alice']);
      assert.deepEqual(
        now.members.map((m) => m.split('=')[0]),
        ['cp1', 'cp2', 'cp3'],
        'no ghost member, no duplicate',
      );
      await assertAllReady(f);
      built = now;
    });

    it('kubeadm init never runs again on the first control plane, even when asked directly', async () => {
      const spec = loadClusterFile(f.clusterFile);
      const cp1 = spec.controlPlanes[0];
      await sh(f, 'cp1', 'mv /etc/kubernetes/admin.conf /etc/kubernetes/admin.conf.kept');
      const t0 = Date.now();
      try {
        await assert.rejects(
          new MockActivityEnvironment().run(activities.kubeadmInit, {
            host: cp1,
            ssh: spec.ssh,
            stepId: 'e2e.kubeadmInit.cp1.again',
            stacked: true,
            config: {
              kubernetesVersion: spec.kubernetesVersion,
              nodeName: 'cp1',
              advertiseAddress: cp1.address,
              controlPlaneEndpoint: `${spec.loadBalancer.host}:${spec.loadBalancer.port}`,
              certSANs: [],
              podSubnet: spec.networking.podSubnet,
            },
          }),
          (err: Error & { type?: string }) =>
            err.type === 'SecondClusterRefused' &&
            /refusing kubeadm init: \/etc\/kubernetes\/pki\/ca\.crt and \/var\/lib\/etcd\/member are here/.test(
              err.message,
            ),
        );
        assert.deepEqual(kubeadmSince(f, t0), []);
      } finally {
        await sh(f, 'cp1', 'mv /etc/kubernetes/admin.conf.kept /etc/kubernetes/admin.conf');
      }
      assert.deepEqual(await identity(f), built);
    });
  });

  it('external etcd built by kubeadm-ha, started again: nothing changes', async () => {
    const f = await rig.fleet({ controlPlanes: 3, workers: 1, etcdHosts: 3 });
    const first = await cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
    assert.equal(first.code, 0, first.out);
    const ca = await sh(f, 'cp1', 'sha256sum /etc/kubernetes/pki/ca.crt');
    const t0 = Date.now();
    const { code, out } = await cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
    assert.equal(code, 0, out);
    assert.deepEqual(kubeadmSince(f, t0), []);
    assert.match(out, /phase etcdCluster: skipped .*etcd1: etcd static pod present/);
    assert.match(out, /Nothing to do/);
    assert.equal(await sh(f, 'cp1', 'sha256sum /etc/kubernetes/pki/ca.crt'), ca);
  });
});
