// Recovery, tried the hard way (part 2 of 3; the rig: test/helpers/fault-rig.ts): on fleets whose
// kubeadm takes realistic time, the dev server is restarted, SSH is cut and an sshd goes away during
// the joins. Each run must end with the hosts right: one init, every node joined once with its role,
// one CA, never two kubeadm commands at once on a host.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFault } from '../../fleet';
import { workflowIdFor } from '../../src/shared/definitions';
import type { HaClusterResult } from '../../src/workflows/ha-cluster';
import { assertClusterBuilt, running } from '../helpers/harness';
import { faultRig, sleep } from '../helpers/fault-rig';

describe('recovery on the local fleet: the server and SSH lost during the joins', () => {
  const { server, fleet, start, cluster } = faultRig();

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
});
