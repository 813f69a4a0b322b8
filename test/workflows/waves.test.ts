// A fleet larger than a wave on the time-skipping test server: its workers are inspected and joined
// in child workflows (waves), each named under the run; parks in a wave are decided through the run;
// the run's progress counts every host; no execution's history grows with the fleet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  Progress,
  PROGRESS_MEMO,
  progressQuery,
  resolveSignal,
  resolveUpdate,
  TASK_QUEUE,
} from '../../src/shared/definitions';
import { haClusterWorkflow } from '../../src/workflows';
import { recordHistory } from '../helpers/history';
import { onTestServer, TEMPORAL_CLI, testWorker } from '../helpers/temporal';
import { Call, fakeActivities, preflight, spec } from './fakes';

const fast = { retry: { initialInterval: '50ms', maximumAttempts: 3 } };
/** Temporal's warning: a history past this many events. */
const EVENT_WARNING = 10_240;

describe('a large fleet in waves, on the time-skipping test server', () => {
  const server = onTestServer();

  const until = async (h: WorkflowHandle, what: string, ok: (p: Progress) => boolean): Promise<Progress> => {
    for (let i = 0; i < 400; i++) {
      const p = await h.query(progressQuery);
      if (ok(p)) return p;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never saw: ${what}`);
  };
  const childIds = async (h: WorkflowHandle): Promise<string[]> =>
    ((await h.fetchHistory()).events ?? []).flatMap((e) => {
      const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      return id ? [id] : [];
    });
  const eventsOf = async (id: string) =>
    ((await server.env.client.workflow.getHandle(id).fetchHistory()).events ?? []).length;

  it('12 workers in waves of 5: three inspection and three join waves, each worker joined once; parks are decided through the run', async () => {
    const calls: Call[] = [];
    const failedOnce = new Set<string>();
    const acts = fakeActivities(calls, {
      behave: (name, host) => {
        // w7 (second wave) and w11 (third) fail their first join: kubeadm's preflight, which parks.
        if (name === 'joinNode' && (host === 'w7' || host === 'w11') && !failedOnce.has(host)) {
          failedOnce.add(host);
          throw preflight(host);
        }
      },
    });
    const worker = await testWorker(server.env, acts);
    // The replay fixture's name: its replay names the waves after it (test/workflows/replay.test.ts).
    const workflowId = 'worker-waves';
    await worker.runUntil(async () => {
      const h = await server.env.client.workflow.start(haClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ spec: { ...spec([], 12), workerConcurrency: 2 }, tuning: { ...fast, waves: { size: 5 } } }],
      });
      // Both parks are offered by the run itself, with the hosts' state and the wave they are in.
      const parked = await until(h, 'w7 and w11 parked', (p) => p.parked.length === 2);
      assert.deepEqual(parked.parked.map((p) => p.host).sort(), ['w11', 'w7']);
      assert.equal(parked.status, 'parked');
      assert.equal(parked.counts.parked, 2);
      assert.deepEqual(
        parked.waves?.map((w) => [w.id.slice(workflowId.length), w.hosts]),
        [
          ['/inspect-1', 5],
          ['/inspect-2', 5],
          ['/inspect-3', 2],
          ['/workers-1', 5],
          ['/workers-2', 5],
          ['/workers-3', 2],
        ],
        'the third wave started while the second held only a park',
      );
      const memo = (await h.describe()).memo?.[PROGRESS_MEMO] as Progress;
      assert.deepEqual(memo.parked.map((p) => p.host).sort(), ['w11', 'w7'], 'the memo names the parks too');
      // An update refused for a host nothing parks, as for the run's own parks.
      await assert.rejects(
        h.executeUpdate(resolveUpdate, { args: [{ host: 'w3', action: 'retry', approver: 'erin' }] }),
        (err: WorkflowUpdateFailedError) => /nothing is parked on host "w3"; parked: /.test(String(err.cause?.message)),
      );
      const d = await h.executeUpdate(resolveUpdate, { args: [{ host: 'w7', action: 'retry', approver: 'erin' }] });
      assert.equal(d.key.startsWith('park:joinNode:w7:'), true);
      await h.signal(resolveSignal, { host: 'w11', action: 'skip', approver: 'frank', reason: 'broken disk' });
      const r = await h.result();
      assert.equal(r.outcome, 'completed-with-skipped');
      assert.deepEqual(r.skipped, ['w11']);
      assert.deepEqual(
        r.decisions.map((x) => [x.host, x.verdict, x.approver]),
        [
          ['w7', 'retry', 'erin'],
          ['w11', 'skip', 'frank'],
        ],
      );
      assert.deepEqual(r.progress.counts, { pending: 0, running: 0, done: 14, parked: 0, skipped: 1, failed: 0 });
      assert.deepEqual(r.progress.hosts, [
        {
          name: 'w11',
          address: '10.0.1.11',
          role: 'worker',
          state: 'skipped',
          detail: 'skipped by frank: broken disk',
        },
      ]);
      assert.deepEqual(
        r.nodes.map((n) => n.name).sort(),
        ['cp1', 'cp2', 'cp3', ...Array.from({ length: 12 }, (_, i) => `w${i + 1}`).filter((w) => w !== 'w11')].sort(),
      );
      await recordHistory(h, 'worker-waves', server.env.address, TEMPORAL_CLI);
    });

    // Each worker inspected and joined once (w7 twice: its retry), by a wave, never by the run.
    const count = (name: string, host: string) => calls.filter((c) => c.name === name && c.host === host).length;
    for (let i = 1; i <= 12; i++) {
      const w = `w${i}`;
      assert.equal(count('inspectHost', w), 1, w);
      assert.equal(count('joinNode', w), w === 'w7' ? 2 : 1, w);
      assert.equal(count('cleanNode', w), w === 'w7' ? 1 : 0, `${w}: the retry resets first`);
    }
    // Each join wave mints its own token on cp1 and deletes it.
    assert.equal(calls.filter((c) => c.name === 'ensureJoinToken').length, 1 + 3, 'control planes, then one per wave');
    assert.equal(calls.filter((c) => c.name.startsWith('deleteJoinTokens')).length, 1 + 3);

    const handle = server.env.client.workflow.getHandle(workflowId);
    const children = await childIds(handle);
    assert.deepEqual(
      children.map((id) => id.slice(workflowId.length)),
      ['/inspect-1', '/inspect-2', '/inspect-3', '/workers-1', '/workers-2', '/workers-3'],
    );
    for (const id of children) {
      const d = await server.env.client.workflow.getHandle(id).describe();
      assert.equal(d.status.name, 'COMPLETED', id);
      assert.equal(d.type, 'workerWaveWorkflow');
    }
    // Bounded by the wave's size, not the fleet's: a few dozen events per worker at most here.
    const sizes = await Promise.all([workflowId, ...children].map(eventsOf));
    for (const [i, n] of sizes.entries()) assert.ok(n < EVENT_WARNING, `${[workflowId, ...children][i]}: ${n} events`);
    assert.ok(Math.max(...sizes.slice(1)) < 5 * 20 + 60, `waves: ${sizes.slice(1).join(', ')} events`);
  });

  it('an abort in a wave ends the run as aborted', async () => {
    const calls: Call[] = [];
    const acts = fakeActivities(calls, {
      behave: (name, host) => {
        if (name === 'joinNode' && host === 'w2') throw preflight(host);
      },
    });
    const worker = await testWorker(server.env, acts);
    await worker.runUntil(async () => {
      const h = await server.env.client.workflow.start(haClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `waves-abort-${Date.now()}`,
        args: [{ spec: { ...spec([], 6), workerConcurrency: 2 }, tuning: { ...fast, waves: { size: 3 } } }],
      });
      await until(h, 'w2 parked', (p) => p.parked.some((x) => x.host === 'w2'));
      await h.executeUpdate(resolveUpdate, { args: [{ host: 'w2', action: 'abort', approver: 'gina' }] });
      const r = await h.result();
      assert.equal(r.outcome, 'aborted');
      assert.equal(r.abort?.approver, 'gina');
      assert.equal(r.progress.status, 'aborted');
      assert.equal(calls.filter((c) => c.name === 'verifyNodes').length, 0, 'nothing after the aborted phase');
    });
  });

  it('a fleet no larger than a wave keeps one history: no child, no patch', async () => {
    const calls: Call[] = [];
    const worker = await testWorker(server.env, fakeActivities(calls));
    await worker.runUntil(async () => {
      const h = await server.env.client.workflow.start(haClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `waves-none-${Date.now()}`,
        args: [{ spec: spec([], 3), tuning: { ...fast, waves: { size: 3 } } }],
      });
      assert.equal((await h.result()).outcome, 'completed');
      assert.deepEqual(await childIds(h), []);
      const markers = ((await h.fetchHistory()).events ?? []).filter(
        (e) => e.markerRecordedEventAttributes?.markerName === 'core_patch',
      );
      assert.ok(markers.length > 0);
      assert.equal(JSON.stringify(markers).includes('worker-waves'), false);
    });
  });
});
