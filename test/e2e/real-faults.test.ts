// Recovery on a real cluster (fleet/real), in one build with the certificates uploaded
// (`kubeadm init --upload-certs`): the worker is SIGKILLed during the real `kubeadm init` and again
// during a real control-plane join, and the SSH connection is cut while a worker's kubelet performs
// its TLS bootstrap. The run must end with one init in all, every node joined once, etcd's own
// member list equal to the control planes, and every Node Ready; a re-run then changes nothing.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readInvocations, type FleetInfo } from '../../fleet';
import { cutSshSessions } from '../../fleet/hosts';
import { REAL_FLEET_VERSIONS } from '../../fleet/real-kubeadm';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import { workflowIdFor } from '../../src/shared/definitions';
import { sessionPool } from '../../src/ssh/pool';
import type { HaClusterResult } from '../../src/workflows/ha-cluster';
import { assertClusterBuilt, eventually, Rig, running } from '../helpers/harness';
import { historyText } from '../helpers/history';
import { assertCoreDnsThroughLb, assertPodNetwork } from '../helpers/real-cluster';

const VERSION = REAL_FLEET_VERSIONS[REAL_FLEET_VERSIONS.length - 1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`recovery on a real ${VERSION} cluster (3 control planes with uploaded certificates, 2 workers)`, () => {
  const rig = new Rig();
  let fleet: FleetInfo;
  before(async () => {
    await rig.up();
    fleet = await rig.fleet({ controlPlanes: 3, workers: 2, real: true, kubernetesVersion: VERSION });
    const file = fleet.clusterFile;
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/^topology: stacked$/m, 'topology: stacked\ncertificates: upload'),
    );
  });
  after(async () => {
    await sessionPool().closeAll();
    await rig.down();
  });

  const start = (out: string[] = []) =>
    main(['start', fleet.clusterFile, '--auto-approve', 'fault-bot', '--address', rig.server.address], (s) =>
      out.push(s),
    );
  const replaceWorker = async () => {
    rig.worker.kill();
    await sleep(500);
    await rig.newWorker();
  };
  const cluster = () => loadClusterFile(fleet.clusterFile).name;
  const result = async () => {
    const { client, close } = await rig.server.client();
    try {
      const h = client.workflow.getHandle(workflowIdFor(cluster()));
      return { r: (await h.result()) as HaClusterResult, history: await historyText(h) };
    } finally {
      await close();
    }
  };

  it('a worker killed during kubeadm init and during a control-plane join, SSH cut during a TLS bootstrap: the cluster is built once', async () => {
    const out: string[] = [];
    const run = start(out);
    await running(fleet, 'cp1', 'init');
    await replaceWorker();
    await running(fleet, 'cp2', 'join');
    await replaceWorker();
    // The kubelet's TLS bootstrap starts once kubeadm join wrote bootstrap-kubelet.conf.
    const bootstrap = join(fleet.dir, 'hosts', 'w1', 'layers', 'etc', 'upper', 'kubernetes', 'bootstrap-kubelet.conf');
    await eventually('w1 in its TLS bootstrap', async () => existsSync(bootstrap) || undefined, 600_000, 50);
    assert.ok(cutSshSessions(fleet.dir, 'w1') > 0, 'a live SSH session to w1 was cut');
    assert.equal(await run, 0, out.join('\n'));
    await assertClusterBuilt(fleet);
    await assertCoreDnsThroughLb(fleet);
    await assertPodNetwork(fleet, 'w2');
    const { r, history } = await result();
    assert.equal(r.outcome, 'completed');
    for (const host of ['cp1', 'cp2']) {
      assert.match(
        history,
        new RegExp(`\\\\"host\\\\":\\\\"${host}\\\\",\\\\"alreadyDone\\\\":false,\\\\"attached\\\\":true`),
        `the new worker re-attached to ${host}'s running kubeadm`,
      );
    }
  });

  it('a re-run of the finished cluster changes nothing', async () => {
    const t0 = Date.now();
    const out: string[] = [];
    assert.equal(await start(out), 0, out.join('\n'));
    const kubeadm = fleet.hosts.flatMap((h) =>
      readInvocations(fleet.dir, h.name)
        .filter((i) => i.start >= t0 && i.argv[0] !== 'version')
        .map((i) => `${h.name} kubeadm ${i.argv.join(' ')}`),
    );
    assert.deepEqual(kubeadm, [], 'no kubeadm command but version');
    assert.ok(
      out.some((l) => /Nothing to do/.test(l)),
      out.join('\n'),
    );
    await assertClusterBuilt(fleet);
  });
});
