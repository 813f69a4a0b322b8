// Recovery, tried the hard way: on fleets whose kubeadm takes realistic time, the worker is
// SIGKILLed mid-step, the dev server is restarted, SSH is cut, an sshd goes away, a join fails
// halfway. Each run must end with the hosts right: one init, every node joined once with its role,
// one CA, and never two kubeadm commands at once on a host.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readInvocations, setFault, setTiming, type FleetInfo } from '../../fleet';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import { workflowIdFor } from '../../src/shared/definitions';
import type { HaClusterResult } from '../../src/workflows/ha-cluster';
import { assertClusterBuilt, eventually, Rig, running } from '../helpers/harness';
import { historyText } from '../helpers/history';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recovery on the local fleet, with realistic step times', () => {
  const rig = new Rig();
  const server = rig.server;
  before(() => rig.up());
  after(() => rig.down());

  const fleet = (opts: { controlPlanes?: number; workers?: number; initMs?: number; joinMs?: number } = {}): Promise<FleetInfo> =>
    rig.fleet({ controlPlanes: opts.controlPlanes ?? 3, workers: opts.workers ?? 2, timing: { initMs: opts.initMs ?? 6000, joinMs: opts.joinMs ?? 4000 } });
  /** Starts a run through the CLI, approving every gate, and resolves with its exit code. */
  function start(f: FleetInfo, out: string[] = []): Promise<number> {
    return main(['start', f.clusterFile, '--auto-approve', 'fault-bot', '--address', server.address], (s) => out.push(s));
  }
  const cluster = (f: FleetInfo) => loadClusterFile(f.clusterFile).name;
  const replaceWorker = async () => {
    rig.worker.kill();
    await sleep(500);
    await rig.newWorker();
  };

  for (const [what, host, argv] of [
    ['kubeadm init', 'cp1', ['init']],
    ['a control-plane join', 'cp2', ['join']],
    ['a worker join', 'w1', ['join']],
  ] as const) {
    it(`a worker SIGKILLed during ${what} is replaced; the new one re-attaches and nothing runs twice`, async () => {
      const f = await fleet();
      const run = start(f);
      await running(f, host, ...argv);
      await replaceWorker();
      assert.equal(await run, 0);
      await assertClusterBuilt(f);
      const { client, close } = await server.client();
      try {
        const history = await historyText(client.workflow.getHandle(workflowIdFor(cluster(f))));
        assert.match(history, new RegExp(`\\\\"host\\\\":\\\\"${host}\\\\",\\\\"alreadyDone\\\\":false,\\\\"attached\\\\":true`), 'the new worker re-attached to the running command');
      } finally {
        await close();
      }
    });
  }

  it('a worker SIGKILLed during the certificate copy is replaced, and the copy completes once', async () => {
    const f = await fleet({ workers: 0 });
    const run = start(f);
    // The copy stages the files on cp2 (a root-only folder), then one journaled command installs them.
    const stage = join(f.dir, 'hosts', 'cp2', 'var-lib-kubeadm-ha', 'stage');
    await eventually('the certificates being staged on cp2', async () => (existsSync(stage) && readdirSync(stage).length > 0) || undefined, 120_000, 10);
    await replaceWorker();
    assert.equal(await run, 0);
    await assertClusterBuilt(f);
    const journal = join(f.dir, 'hosts', 'cp2', 'var-lib-kubeadm-ha', 'journal');
    const copies = readdirSync(journal).filter((id) => id.includes('.distributeCerts.'));
    assert.equal(copies.length, 1, `one certificate install on cp2: ${copies}`);
    assert.equal(readFileSync(join(journal, copies[0], 'rc'), 'utf8').trim(), '0');
  });

  it('the dev server stopped and restarted during the joins loses nothing', async () => {
    const f = await fleet({ workers: 3 });
    const run = start(f).catch(() => -1); // the CLI may lose its own connection: the run goes on
    await running(f, 'cp2', 'join');
    await server.stop();
    await sleep(3000);
    await server.start();
    const code = await run;
    const { client, close } = await server.client();
    try {
      const h = client.workflow.getHandle(workflowIdFor(cluster(f)));
      const r = (await h.result()) as HaClusterResult;
      assert.equal(r.outcome, 'completed', `CLI exit ${code}`);
    } finally {
      await close();
    }
    await assertClusterBuilt(f);
  });

  it('the SSH connection cut while kubeadm join runs: the join finishes on the host and is collected', async () => {
    const f = await fleet({ controlPlanes: 1, workers: 2 });
    const run = start(f);
    await running(f, 'w2', 'join');
    setFault(f.dir, { host: 'w2', cutSsh: true });
    assert.equal(await run, 0);
    await assertClusterBuilt(f);
  });

  it("a host's sshd down for 30 s during its join: the step waits and then completes", async () => {
    const f = await fleet({ controlPlanes: 1, workers: 2, joinMs: 8000 });
    const run = start(f);
    await running(f, 'w1', 'join');
    setFault(f.dir, { host: 'w1', sshd: 'down' });
    await sleep(30_000);
    setFault(f.dir, { host: 'w1', sshd: 'up' });
    assert.equal(await run, 0);
    await assertClusterBuilt(f);
  });

  it('joins that fail halfway (kubelet.conf written, then etcd or kubelet-start) succeed after a recorded reset', async () => {
    const f = await fleet({ workers: 1 });
    setFault(f.dir, { host: 'cp3', command: 'kubeadm join', mode: 'fail-once', phase: 'etcd' });
    setFault(f.dir, { host: 'w1', command: 'kubeadm join', mode: 'fail-once', phase: 'kubelet-start' });
    const out: string[] = [];
    assert.equal(await start(f, out), 0, out.join('\n'));
    await assertClusterBuilt(f);
    for (const host of ['cp3', 'w1']) {
      const resets = readInvocations(f.dir, host).filter((i) => i.argv[0] === 'reset');
      assert.equal(resets.length, 1, `one reset of the half-done ${host}`);
      assert.ok(out.some((l) => new RegExp(`${host}: cleaned before joinNode — kubeadm reset -f`).test(l)), out.join('\n'));
    }
  });

  it('a run cancelled during the worker joins is started again: done phases are skipped and their gates not asked', async () => {
    // Joins long enough that the cancellation (delivered with the next heartbeat) lands in the middle of one.
    const f = await fleet({ workers: 3, joinMs: 20_000 });
    const name = cluster(f);
    const first = start(f);
    await running(f, 'w1', 'join');
    const out: string[] = [];
    assert.equal(await main(['cancel', name, '--address', server.address], (s) => out.push(s)), 0);
    assert.equal(await first, 1, 'the cancelled run ends with a failure exit code');
    const killed = ['w1', 'w2', 'w3'].filter((w) => readInvocations(f.dir, w).some((i) => i.argv[0] === 'join' && i.exitCode === 143));
    assert.ok(killed.length > 0, 'cancel stopped the running joins on the hosts');
    await setTiming(f.dir, { joinMs: 2000 });
    const again: string[] = [];
    assert.equal(await start(f, again), 0, again.join('\n'));
    const printed = again.join('\n');
    for (const phase of ['probeLoadBalancer', 'init', 'distributeCerts', 'joinControlPlanes']) {
      assert.match(printed, new RegExp(`phase ${phase}: skipped`), `${phase} is done and skipped`);
    }
    assert.doesNotMatch(printed, /waiting for approval of "(init|joinControlPlanes)"/, 'the gates of done phases are not asked again');
    assert.match(printed, /joinWorkers approved by fault-bot/);
    for (const w of killed) assert.match(printed, new RegExp(`${w}: cleaned before joinNode — kubeadm reset -f`), `${w} was half-done and is reset first`);
    await assertClusterBuilt(f);
  });

  it('five clusters on five fleets at once, on one worker, all complete', async () => {
    const fleets = await Promise.all(Array.from({ length: 5 }, () => fleet({ controlPlanes: 3, workers: 1, initMs: 2000, joinMs: 1000 })));
    assert.equal(new Set(fleets.map(cluster)).size, 5, 'each fleet is its own cluster');
    const codes = await Promise.all(fleets.map((f) => start(f)));
    assert.deepEqual(codes, [0, 0, 0, 0, 0]);
    for (const f of fleets) await assertClusterBuilt(f);
  });
});
