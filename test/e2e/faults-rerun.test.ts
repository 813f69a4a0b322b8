// Recovery, tried the hard way (part 3 of 3; the rig: test/helpers/fault-rig.ts): on fleets whose
// kubeadm takes realistic time, joins fail halfway, a run is cancelled during the joins and started
// again, and five clusters run at once on one worker. Each run must end with the hosts right: one
// init, every node joined once with its role, one CA, never two kubeadm commands at once on a host.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readInvocations, setFault, setTiming } from '../../fleet';
import { main } from '../../src/client/cli';
import { assertClusterBuilt, running } from '../helpers/harness';
import { faultRig } from '../helpers/fault-rig';

describe('recovery on the local fleet: failed joins, a cancelled run, runs at once', () => {
  const { server, fleet, start, cluster } = faultRig();

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
      assert.ok(
        out.some((l) => new RegExp(`${host}: cleaned before joinNode — kubeadm reset -f`).test(l)),
        out.join('\n'),
      );
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
    const killed = ['w1', 'w2', 'w3'].filter((w) =>
      readInvocations(f.dir, w).some((i) => i.argv[0] === 'join' && i.exitCode === 143),
    );
    assert.ok(killed.length > 0, 'cancel stopped the running joins on the hosts');
    await setTiming(f.dir, { joinMs: 2000 });
    const again: string[] = [];
    assert.equal(await start(f, again), 0, again.join('\n'));
    const printed = again.join('\n');
    for (const phase of ['probeLoadBalancer', 'init', 'distributeCerts', 'joinControlPlanes']) {
      assert.match(printed, new RegExp(`phase ${phase}: skipped`), `${phase} is done and skipped`);
    }
    assert.doesNotMatch(
      printed,
      /waiting for approval of "(init|joinControlPlanes)"/,
      'the gates of done phases are not asked again',
    );
    assert.match(printed, /joinWorkers approved by fault-bot/);
    for (const w of killed)
      assert.match(
        printed,
        new RegExp(`${w}: cleaned before joinNode — kubeadm reset -f`),
        `${w} was half-done and is reset first`,
      );
    await assertClusterBuilt(f);
  });

  it('five clusters on five fleets at once, on one worker, all complete', async () => {
    const fleets = await Promise.all(
      Array.from({ length: 5 }, () => fleet({ controlPlanes: 3, workers: 1, initMs: 2000, joinMs: 1000 })),
    );
    assert.equal(new Set(fleets.map(cluster)).size, 5, 'each fleet is its own cluster');
    const codes = await Promise.all(fleets.map((f) => start(f)));
    assert.deepEqual(codes, [0, 0, 0, 0, 0]);
    for (const f of fleets) await assertClusterBuilt(f);
  });
});
