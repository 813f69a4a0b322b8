// A worker whose join keeps failing parks while the others finish; the operator then retries
// (after fixing it), skips it or aborts, through the CLI. And a bootstrap token that expires while
// a host is parked is replaced before that host joins. Real fleet, real dev server, real worker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clearFaults, readInvocations, setFault, type FleetInfo } from '../../fleet';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import { resolveUpdate, TASK_QUEUE, workflowIdFor } from '../../src/shared/definitions';
import type { HaClusterResult } from '../../src/workflows/ha-cluster';
import { assertClusterBuilt, eventually, progressMemo, Rig } from '../helpers/harness';

const PORT_IN_USE =
  'error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR Port-10250]: Port 10250 is in use\n' +
  '[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`';

describe("parking and the operator's decisions, on the local fleet", () => {
  const rig = new Rig();
  const server = rig.server;
  before(() => rig.up());
  after(() => rig.down());

  const fleet = (workers = 3): Promise<FleetInfo> =>
    rig.fleet({ controlPlanes: 1, workers, timing: { initMs: 1000, joinMs: 1000 } });
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await main([...argv, '--address', server.address], (s) => out.push(s));
    return { code, out: out.join('\n') };
  };

  for (const action of ['retry', 'skip', 'abort'] as const) {
    it(`a worker join that keeps failing parks while the others finish; ${action} resolves it`, async () => {
      const f = await fleet();
      const name = loadClusterFile(f.clusterFile).name;
      setFault(f.dir, { host: 'w2', command: 'kubeadm join', mode: 'fail', message: PORT_IN_USE });
      const run = cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
      const { client, close } = await server.client();
      try {
        await eventually('w2 parked and the others joined', async () => {
          const p = await progressMemo(client, name);
          return p?.status === 'parked' && p.counts.done === 3 ? p : undefined; // cp1, w1, w3
        });
        const status = await cli('status', name);
        assert.match(status.out, /joinNode on w2 \(worker\) is parked since .* after 1 attempt\(s\):/);
        assert.match(status.out, /attempt 1 at .*Port-10250 \(Port 10250 is in use\)/);
        assert.match(status.out, new RegExp(`kubeadm-ha skip ${name} w2 --as <your name>`));
        assert.equal(
          readInvocations(f.dir, 'w2').filter((i) => i.argv[0] === 'join').length,
          1,
          'an operator failure is not retried blindly',
        );

        if (action === 'abort') {
          // Operators can always see a run: with no worker, status says so at once and shows the memo.
          await rig.worker.stop();
          const t = Date.now();
          const lonely = await cli('status', name);
          assert.ok(Date.now() - t < 6000, `status answered in ${Date.now() - t} ms`);
          assert.match(lonely.out, /no worker is polling task queue "kubeadm-ha"; .*start it with npm run worker/);
          assert.match(lonely.out, /joinNode on w2 \(worker\) is parked/);
          await rig.newWorker();
        }
        const refused = await cli(action, name, 'w1', '--as', 'alice').catch((e: Error) => ({
          code: -1,
          out: e.message,
        }));
        assert.match(refused.out, /refused: nothing is parked on host "w1"; parked: w2/);
        if (action === 'retry') clearFaults(f.dir);
        assert.equal((await cli(action, name, 'w2', '--as', 'alice', '--reason', `CHG-${action}`)).code, 0);
        const ended = await run;
        const r = (await client.workflow.getHandle(workflowIdFor(name)).result()) as HaClusterResult;
        const decision = r.decisions.find((d) => d.host === 'w2');
        assert.deepEqual(
          [decision?.verdict, decision?.approver, decision?.comment],
          [action, 'alice', `CHG-${action}`],
        );
        if (action === 'retry') {
          assert.equal(ended.code, 0);
          assert.equal(r.outcome, 'completed');
          await assertClusterBuilt(f);
        } else if (action === 'skip') {
          assert.equal(ended.code, 0);
          assert.equal(r.outcome, 'completed-with-skipped');
          assert.match(ended.out, /Completed with skipped hosts: w2/);
          await assertClusterBuilt(f, { skipped: ['w2'] });
        } else {
          assert.equal(ended.code, 4);
          assert.equal(r.outcome, 'aborted');
          assert.match(ended.out, /Aborted by alice at joinNode on w2: CHG-abort; the hosts were left as they are/);
          await rig.worker.stop(); // a closed run is shown from its memo, no worker needed
          const after = await cli('status', name);
          assert.match(after.out, /COMPLETED\nStatus: aborted/);
          assert.match(after.out, /joinNode on w2: abort by alice at .* — "CHG-abort"/);
          await rig.newWorker();
        }
      } finally {
        await close();
      }
    });
  }

  it('a token that expires while a host is parked is replaced before that host joins', async () => {
    const f = await fleet(2);
    const spec = loadClusterFile(f.clusterFile);
    setFault(f.dir, { host: 'w1', command: 'kubeadm join', mode: 'fail', message: PORT_IN_USE });
    const { client, close } = await server.client();
    try {
      // Tokens that live for 6 s, so the wait below outlives the wave's token (the default is 2 h, renewed below 30 min).
      const h = await client.workflow.start('haClusterWorkflow', {
        taskQueue: TASK_QUEUE,
        workflowId: workflowIdFor(spec.name),
        args: [{ spec: { ...spec, approvals: [] }, tuning: { token: { ttlSeconds: 6, minRemainingSeconds: 4 } } }],
      });
      await eventually(
        'w1 parked',
        async () => (await progressMemo(client, spec.name))?.parked.some((p) => p.host === 'w1') || undefined,
      );
      const created = () =>
        readInvocations(f.dir, 'cp1').filter((i) => i.argv[0] === 'token' && i.argv[1] === 'create').length;
      const before = created();
      await new Promise((r) => setTimeout(r, 7000)); // the wave's token has expired in the cluster
      clearFaults(f.dir);
      await h.executeUpdate(resolveUpdate, { args: [{ host: 'w1', action: 'retry', approver: 'bob' }] });
      const r = (await h.result()) as HaClusterResult;
      assert.equal(r.outcome, 'completed');
      assert.equal(created(), before + 1, 'a fresh token was minted for the parked host');
      await assertClusterBuilt(f);
      const deletes = readInvocations(f.dir, 'cp1').filter((i) => i.argv[0] === 'token' && i.argv[1] === 'delete');
      assert.ok(deletes.length >= 1, 'minted tokens are deleted when their phase is done');
    } finally {
      await close();
    }
  });

  it('start --exit-on-park (the demo: nobody at the keyboard) prints the park and exits 5 at once; the run stays parked for a decision', async () => {
    const f = await fleet(1);
    const name = loadClusterFile(f.clusterFile).name;
    setFault(f.dir, { host: 'w1', command: 'kubeadm join', mode: 'fail', message: PORT_IN_USE });
    const r = await cli('start', f.clusterFile, '--auto-approve', 'demo', '--exit-on-park');
    assert.equal(r.code, 5, r.out);
    assert.match(
      r.out,
      /joinNode on w1 \(worker\) is parked since .* after 1 attempt\(s\):\n\s+attempt 1 at .*Port-10250 \(Port 10250 is in use\)/,
    );
    assert.match(
      r.out,
      new RegExp(
        `Stopped following: joinNode on w1 parked and waits for an operator \\(kubeadm-ha status ${name}; Web UI http`,
      ),
    );
    const { client, close } = await server.client();
    try {
      assert.equal((await progressMemo(client, name))?.status, 'parked', 'the run itself still waits');
      clearFaults(f.dir);
      assert.equal((await cli('retry', name, 'w1', '--as', 'alice')).code, 0);
      assert.equal(
        ((await client.workflow.getHandle(workflowIdFor(name)).result()) as HaClusterResult).outcome,
        'completed',
      );
    } finally {
      await close();
    }
  });
});
