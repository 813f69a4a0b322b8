// A run on a real dev server with the codec: what the server stores (as `temporal workflow show
// --output json` prints it) is ciphertext, failure messages included, while a client with the key
// reads inputs, results and the progress memo, and one without the key is told which key it lacks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { main } from '../../src/client/cli';
import { kubeadmHaDataConverter } from '../../src/codec/data-converter';
import { KEY_FILE_ENV, loadCodecKeys } from '../../src/codec/keys';
import {
  PROGRESS_MEMO,
  Progress,
  progressQuery,
  resolveUpdate,
  TASK_QUEUE,
  workflowIdFor,
} from '../../src/shared/definitions';
import type { HaClusterResult } from '../../src/workflows/ha-cluster';
import { historyText, storedPayloads } from '../helpers/history';
import { startDevServer, TEMPORAL_CLI, workflowBundle, workerDataConverter } from '../helpers/temporal';
import { Call, fakeActivities, preflight, spec } from '../workflows/fakes';

const CLUSTER = 'codec-run';
const MARKER = 'lb-encrypted-marker.example';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('encrypted payloads on a real dev server', () => {
  let env: TestWorkflowEnvironment;
  let h: WorkflowHandle;
  let result: HaClusterResult;
  const keyId = loadCodecKeys().encryptKeyId!;

  before(async () => {
    env = await startDevServer();
    const calls: Call[] = [];
    let broken = true;
    const activities = fakeActivities(calls, {
      behave: (name, host) => {
        if (name === 'joinNode' && host === 'w1' && broken) throw preflight('w1');
      },
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      activities,
      dataConverter: workerDataConverter(),
    });
    result = await worker.runUntil(async () => {
      const input = {
        spec: { ...spec([], 1), name: CLUSTER, loadBalancer: { host: MARKER, port: 6443 } },
        tuning: { retry: { initialInterval: '50ms', maximumAttempts: 1 } },
      };
      h = await env.client.workflow.start('haClusterWorkflow', {
        taskQueue: TASK_QUEUE,
        workflowId: workflowIdFor(CLUSTER),
        args: [input],
      });
      for (let i = 0; i < 400 && !(await h.query(progressQuery)).parked.length; i++)
        await new Promise((r) => setTimeout(r, 50));
      broken = false;
      await h.executeUpdate(resolveUpdate, {
        args: [{ host: 'w1', action: 'skip', approver: 'erin-approver', reason: 'codec test reason' }],
      });
      return h.result() as Promise<HaClusterResult>;
    });
  });
  after(async () => {
    await env?.teardown();
  });

  it("stores every payload encrypted, the activity failure's message included", () => {
    assert.ok(keyId, 'the tests run with a key (test/helpers/temporal.ts)');
    const json = execFileSync(
      TEMPORAL_CLI,
      ['workflow', 'show', '-w', h.workflowId, '--output', 'json', '--address', env.address],
      { encoding: 'utf8' },
    );
    const history = JSON.parse(json) as {
      events: {
        eventType: string;
        activityTaskFailedEventAttributes?: {
          failure: { message: string; stackTrace?: string; encodedAttributes?: unknown };
        };
      }[];
    };
    const payloads = storedPayloads(history);
    assert.ok(payloads.length > 10, `found ${payloads.length} payloads`);
    for (const p of payloads) {
      assert.equal(
        p.metadata?.encoding,
        b64('binary/encrypted'),
        `plain payload in history: ${JSON.stringify(p).slice(0, 200)}`,
      );
      assert.equal(p.metadata?.['encryption-key-id'], b64(keyId));
    }
    for (const secret of [MARKER, 'Port-10250', 'erin-approver', 'codec test reason']) {
      assert.ok(
        !json.includes(secret),
        `"${secret}" in the stored history: ...${json.slice(Math.max(0, json.indexOf(secret) - 400), json.indexOf(secret) + 100)}`,
      );
      assert.ok(!json.includes(b64(`"${secret}`).slice(0, 12)), `"${secret}" base64 in the stored history`);
    }
    const failed = history.events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_FAILED')
      ?.activityTaskFailedEventAttributes?.failure;
    assert.ok(failed, 'the failed join is in the history');
    assert.equal(failed.message, 'Encoded failure');
    assert.ok(!failed.stackTrace, 'no plain stack trace');
    assert.ok(failed.encodedAttributes, 'message and stack trace are in an encrypted payload');
  });

  it('a client with the key reads input, result, failure text and the progress memo; status works on the closed run', async () => {
    assert.equal(result.outcome, 'completed-with-skipped');
    assert.deepEqual(result.skipped, ['w1']);
    const text = await historyText(h);
    assert.match(text, /Port-10250/);
    assert.match(text, new RegExp(MARKER.replace(/\./g, '\\.')));
    const memo = (await h.describe()).memo?.[PROGRESS_MEMO] as Progress;
    assert.equal(memo.cluster, CLUSTER);
    assert.equal(memo.status, 'completed-with-skipped');
    const out: string[] = [];
    assert.equal(await main(['status', CLUSTER, '--json', '--address', env.address], (s) => out.push(s)), 0);
    assert.equal(JSON.parse(out.join('\n')).status, 'completed-with-skipped');
  });

  it('a client without the key is told which key it lacks', async () => {
    const noKey = new Client({
      connection: env.client.connection,
      dataConverter: kubeadmHaDataConverter(loadCodecKeys({}), 'this CLI'),
    });
    const handle = noKey.workflow.getHandle(h.workflowId);
    const lacks = new RegExp(
      `cannot decrypt: payload encrypted with key id ${keyId}, which this CLI does not have; set ${KEY_FILE_ENV}`,
    );
    await assert.rejects(handle.result(), lacks);
    await assert.rejects(handle.describe(), lacks, 'the memo is encrypted');
    const file = process.env[KEY_FILE_ENV];
    delete process.env[KEY_FILE_ENV];
    try {
      await assert.rejects(
        main(['status', CLUSTER, '--address', env.address], () => undefined),
        lacks,
      );
    } finally {
      process.env[KEY_FILE_ENV] = file;
    }
  });
});
