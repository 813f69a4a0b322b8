// How following a run ends with nobody there, on a real dev server: a failed run prints its phase,
// step and error and exits 1; with --exit-on-park, a run that no worker answers, or whose workflow
// task keeps failing, is given up (exit 6) with the reason instead of being followed forever.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { watch } from '../../src/client/commands';
import { type TemporalTarget, temporalTarget } from '../../src/client/connection';
import { main } from '../../src/client/cli';
import { EXIT_STALLED } from '../../src/client/run-end';
import { TASK_QUEUE, workflowIdFor } from '../../src/shared/definitions';
import { startDevServer, workerDataConverter, workflowBundle } from '../helpers/temporal';
import { type Call, fakeActivities, spec } from '../workflows/fakes';

const UNREACHABLE =
  'host cp1 (10.0.0.1:22): cannot connect (ECONNREFUSED); check that the host is up and sshd listens on that port; gave up after 8 tries in 39 s';

describe('how following a run ends with nobody there', () => {
  let env: TestWorkflowEnvironment;
  let target: TemporalTarget;
  before(async () => {
    env = await startDevServer();
    target = temporalTarget({ address: env.address }, {});
  });
  after(async () => {
    await env?.teardown();
  });

  const startRun = (cluster: string) =>
    env.client.workflow.start('haClusterWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: workflowIdFor(cluster),
      args: [{ spec: { ...spec([], 1), name: cluster } }],
    });

  it('a run that fails prints its phase, the step and its error, and exits 1', async () => {
    const calls: Call[] = [];
    // Not a step of a host: the minted tokens' deletion on the first control plane, after the joins.
    const activities = {
      ...fakeActivities(calls),
      deleteJoinTokens: () =>
        Promise.reject(ApplicationFailure.create({ message: UNREACHABLE, type: 'SshUnavailable', nonRetryable: true })),
    };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      activities,
      dataConverter: workerDataConverter(),
    });
    const out: string[] = [];
    const code = await worker.runUntil(async () => {
      await startRun('fails');
      return main(['watch', 'fails', '--address', env.address], (s) => out.push(s));
    });
    const text = out.join('\n');
    assert.equal(code, 1, text);
    assert.match(text, /^Run failed: http/m);
    assert.match(
      text,
      new RegExp(
        `^Failed in phase joinControlPlanes at step deleteJoinTokens: ${UNREACHABLE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\[SshUnavailable\\]$`,
        'm',
      ),
    );
  });

  it('--exit-on-park: a run no worker answers is given up after the stall limit, saying so (exit 6)', async () => {
    await startRun('no-worker');
    const out: string[] = [];
    const t0 = Date.now();
    const code = await watch(env.client, target, 'no-worker', (s) => out.push(s), 'tester', true, 2000);
    const text = out.join('\n');
    assert.equal(code, EXIT_STALLED, text);
    assert.ok(Date.now() - t0 < 30_000, `gave up after ${Date.now() - t0} ms`);
    assert.match(
      text,
      /Stopped following: the run cannot go on by itself: no worker is polling task queue "kubeadm-ha"/,
    );
    await env.client.workflow.getHandle(workflowIdFor('no-worker')).terminate('test done');
  });

  it('--exit-on-park: a run whose workflow task keeps failing is given up with the failure (exit 6)', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('./stalled-workflow'),
      dataConverter: workerDataConverter(),
    });
    const out: string[] = [];
    const code = await worker.runUntil(async () => {
      await startRun('stalled');
      return watch(env.client, target, 'stalled', (s) => out.push(s), 'tester', true, 2000);
    });
    const text = out.join('\n');
    assert.equal(code, EXIT_STALLED, text);
    assert.match(
      text,
      /Stopped following: the run cannot go on by itself: the worker fails the run's workflow task at every try \(attempt \d+, for \d+ s\): kubeadm-ha test: a bug in the workflow code; see the worker's log/,
    );
    await env.client.workflow.getHandle(workflowIdFor('stalled')).terminate('test done');
  });
});
