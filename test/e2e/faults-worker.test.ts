// Recovery, tried the hard way (part 1 of 3; the rig: test/helpers/fault-rig.ts): on fleets whose
// kubeadm takes realistic time, the kubeadm-ha worker is SIGKILLed mid-step (init, a control-plane
// join, a worker join, the certificate copy) and replaced. Each run must end with the hosts right:
// one init, every node joined once with its role, one CA, never two kubeadm commands at once on a host.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { workflowIdFor } from '../../src/shared/definitions';
import { assertClusterBuilt, eventually, running } from '../helpers/harness';
import { historyText } from '../helpers/history';
import { faultRig } from '../helpers/fault-rig';

describe('recovery on the local fleet: a worker killed mid-step', () => {
  const { server, fleet, start, cluster, replaceWorker } = faultRig();

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
        assert.match(
          history,
          new RegExp(`\\\\"host\\\\":\\\\"${host}\\\\",\\\\"alreadyDone\\\\":false,\\\\"attached\\\\":true`),
          'the new worker re-attached to the running command',
        );
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
    await eventually(
      'the certificates being staged on cp2',
      async () => (existsSync(stage) && readdirSync(stage).length > 0) || undefined,
      120_000,
      10,
    );
    await replaceWorker();
    assert.equal(await run, 0);
    await assertClusterBuilt(f);
    const journal = join(f.dir, 'hosts', 'cp2', 'var-lib-kubeadm-ha', 'journal');
    const copies = readdirSync(journal).filter((id) => id.includes('.distributeCerts.'));
    assert.equal(copies.length, 1, `one certificate install on cp2: ${copies}`);
    assert.equal(readFileSync(join(journal, copies[0], 'rc'), 'utf8').trim(), '0');
  });
});
