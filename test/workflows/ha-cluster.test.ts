// The workflow's decisions on Temporal's time-skipping test server, with stand-in activities: phase
// order, approval gates (update + signal), rejection, retries that re-attach, reset-and-retry, parking
// with retry / skip / abort, resuming from facts, and fresh join tokens after long waits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ClusterReading } from '../../src/activities/types';
import type { Gate } from '../../src/config/enums';
import type { KubeadmHaActivities } from '../../src/workflows/activities';
import {
  approveSignal,
  approveUpdate,
  FailedPhaseKey,
  PhaseKey,
  Progress,
  PROGRESS_MEMO,
  progressQuery,
  rejectUpdate,
  resolveSignal,
  resolveUpdate,
  RUNNING_NAMED,
  StatusKey,
  TASK_QUEUE,
} from '../../src/shared/definitions';
import { haClusterWorkflow } from '../../src/workflows';
import type { HaClusterInput } from '../../src/workflows/ha-cluster';
import { historyText, recordHistory } from '../helpers/history';
import { onTestServer, TEMPORAL_CLI, testWorker } from '../helpers/temporal';
import { Call, CLEAN, fakeActivities, finished, JOINED_CP, JOINED_WORKER, preflight, spec, transient } from './fakes';

const fast = { retry: { initialInterval: '50ms', maximumAttempts: 3 } };

describe('haClusterWorkflow on the time-skipping test server', () => {
  const server = onTestServer();
  let n = 0;

  type Handle = WorkflowHandle<typeof haClusterWorkflow>;
  async function run<T>(
    activities: KubeadmHaActivities,
    input: HaClusterInput,
    body: (h: Handle) => Promise<T>,
  ): Promise<T> {
    const worker = await testWorker(server.env, activities);
    return worker.runUntil(async () => {
      const h = await server.env.client.workflow.start(haClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `wf-test-${++n}-${Date.now()}`,
        args: [input],
      });
      return body(h);
    });
  }
  const until = async (h: Handle, what: string, ok: (p: Progress) => boolean): Promise<Progress> => {
    for (let i = 0; i < 400; i++) {
      const p = await h.query(progressQuery);
      if (ok(p)) return p;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never saw: ${what}`);
  };
  const waitFor = (h: Handle, phase: Gate) => until(h, `gate ${phase}`, (p) => p.awaitingApproval === phase);
  const parkedOn = (h: Handle, host: string) =>
    until(h, `${host} parked`, (p) => p.parked.some((x) => x.host === host));
  /** The run's result, its history saved as the replay fixture `name` (with KHA_RECORD_HISTORIES=1). */
  const resultRecorded = (name: string) => async (h: Handle) => {
    const r = await h.result();
    await recordHistory(h, name, server.env.address, TEMPORAL_CLI);
    return r;
  };
  const names = (calls: Call[], name: string) => calls.filter((c) => c.name === name).map((c) => c.host);

  it('external etcd built by kubeadm-ha: the first member makes the CA, the others copy it, health before init, init uses etcd.external', async () => {
    const calls: Call[] = [];
    const etcd = {
      hosts: ['etcd1', 'etcd2', 'etcd3'].map((name, i) => ({ name, address: `10.0.2.${i + 1}`, port: 22 })),
    };
    const result = await run(
      fakeActivities(calls),
      { spec: { ...spec([], 1), topology: 'external', etcd } },
      resultRecorded('external-etcd-built'),
    );
    assert.equal(result.outcome, 'completed');
    const order = calls.map((c) => c.name).filter((c, i, all) => all.indexOf(c) === i);
    assert.deepEqual(order.slice(0, 7), [
      'inspectHost',
      'probeLoadBalancer',
      'buildEtcdMember',
      'checkEtcdCluster',
      'installEtcdClientCerts',
      'kubeadmInit',
      'installCni',
    ]);
    assert.deepEqual(names(calls, 'inspectHost').sort(), ['cp1', 'cp2', 'cp3', 'etcd1', 'etcd2', 'etcd3', 'w1']);
    const builds = calls.filter((c) => c.name === 'buildEtcdMember');
    assert.equal(builds[0].host, 'etcd1', 'the CA is made on the first member before the others copy it');
    assert.equal((builds[0].input as { caSource?: unknown }).caSource, undefined);
    assert.deepEqual(
      builds
        .slice(1)
        .map((b) => [b.host, (b.input as { caSource: { name: string } }).caSource.name])
        .sort(),
      [
        ['etcd2', 'etcd1'],
        ['etcd3', 'etcd1'],
      ],
    );
    assert.deepEqual(
      (calls.find((c) => c.name === 'installEtcdClientCerts')!.input as { from: { host: { name: string } } }).from.host
        .name,
      'etcd1',
    );
    const init = calls.find((c) => c.name === 'kubeadmInit')!.input as {
      config: { etcd: { external: { endpoints: string[] } } };
    };
    assert.deepEqual(init.config.etcd.external.endpoints, [
      'https://10.0.2.1:2379',
      'https://10.0.2.2:2379',
      'https://10.0.2.3:2379',
    ]);
    assert.deepEqual(result.nodes.map((n) => n.name).sort(), ['cp1', 'cp2', 'cp3', 'w1'], 'etcd hosts are no Nodes');
    assert.deepEqual(names(calls, 'distributeCerts').sort(), ['cp2', 'cp3']);
  });

  it('an existing external etcd: its client files go to the first control plane, nothing is built', async () => {
    const calls: Call[] = [];
    const etcd = {
      endpoints: ['https://10.0.2.1:2379'],
      caFile: '/k/ca.crt',
      certFile: '/k/client.crt',
      keyFile: '/k/client.key',
    };
    const input: HaClusterInput = { spec: { ...spec([], 1), topology: 'external', etcd, certificates: 'upload' } };
    const result = await run(fakeActivities(calls), input, resultRecorded('external-etcd-existing'));
    assert.equal(result.outcome, 'completed');
    assert.deepEqual(names(calls, 'buildEtcdMember'), []);
    assert.deepEqual((calls.find((c) => c.name === 'installEtcdClientCerts')!.input as { from: unknown }).from, {
      caFile: '/k/ca.crt',
      certFile: '/k/client.crt',
      keyFile: '/k/client.key',
    });
    const init = calls.find((c) => c.name === 'kubeadmInit')!.input as {
      config: { etcd: { external: { endpoints: string[] } } };
    };
    assert.deepEqual(init.config.etcd.external.endpoints, ['https://10.0.2.1:2379']);
  });

  it('upload mode: no copy, the init uploads, the certificates are uploaded again when too little of their lifetime is left', async () => {
    const calls: Call[] = [];
    const acts = fakeActivities(calls, {
      behave: async (name) => {
        if (name === 'joinNode') await new Promise((r) => setTimeout(r, 1200));
      },
    });
    // 3 s of lifetime, re-upload below 2 s left: cp2 joins on the init's upload, cp3 (1.2 s later) needs a new one.
    const tuning = { ...fast, uploadedCerts: { validSeconds: 3, minRemainingSeconds: 2 } };
    const result = await run(
      acts,
      { spec: { ...spec([], 0), certificates: 'upload' }, tuning },
      resultRecorded('upload-certs'),
    );
    assert.equal(result.outcome, 'completed');
    assert.deepEqual(names(calls, 'distributeCerts'), []);
    assert.equal((calls.find((c) => c.name === 'kubeadmInit')!.input as { uploadCerts?: boolean }).uploadCerts, true);
    const seq = calls
      .filter(
        (c) => ['uploadCerts', 'joinNode', 'removeCertificateKey'].includes(c.name) || c.name.startsWith('delete'),
      )
      .map((c) => `${c.name} ${c.host ?? ''}`.trim());
    assert.deepEqual(seq, [
      'joinNode cp2',
      'uploadCerts cp1',
      'joinNode cp3',
      'deleteJoinTokens:tok1',
      'removeCertificateKey cp1',
    ]);
    for (const j of calls.filter((c) => c.name === 'joinNode'))
      assert.equal((j.input as { downloadCerts?: boolean }).downloadCerts, true);
  });

  it('upload mode, the init done in an earlier run: the certificates are uploaded before the first control-plane join, their key removed after the last', async () => {
    const calls: Call[] = [];
    const cp1 = { name: 'cp1', status: 'Ready', roles: ['control-plane'], version: 'v1.31.4', ready: true };
    const acts = fakeActivities(calls, {
      files: { cp1: { ...JOINED_CP, caCert: true } },
      cluster: {
        caCertHash: `sha256:${'b'.repeat(64)}`,
        nodes: [cp1],
        etcdMembers: [
          { id: 'a1', name: 'cp1', peerURLs: ['https://10.0.0.1:2380'], clientURLs: [], started: true, learner: false },
        ],
      },
    });
    const r = await run(acts, { spec: { ...spec([], 0), certificates: 'upload' }, tuning: fast }, (h) => h.result());
    assert.equal(r.outcome, 'completed');
    const seq = calls
      .filter((c) => ['kubeadmInit', 'uploadCerts', 'joinNode', 'removeCertificateKey'].includes(c.name))
      .map((c) => `${c.name} ${c.host}`);
    assert.deepEqual(seq, ['uploadCerts cp1', 'joinNode cp2', 'joinNode cp3', 'removeCertificateKey cp1']);
  });

  it('upload mode with one control plane: the certificate key goes right after the init', async () => {
    const calls: Call[] = [];
    const one = { ...spec([], 1), certificates: 'upload' as const };
    one.controlPlanes = one.controlPlanes.slice(0, 1);
    const r = await run(fakeActivities(calls), { spec: one, tuning: fast }, resultRecorded('upload-one-control-plane'));
    assert.equal(r.outcome, 'completed');
    const seq = calls
      .filter((c) => ['kubeadmInit', 'uploadCerts', 'joinNode', 'removeCertificateKey'].includes(c.name))
      .map((c) => `${c.name} ${c.host}`);
    assert.deepEqual(seq, ['kubeadmInit cp1', 'removeCertificateKey cp1', 'joinNode w1']);
  });

  it('copy mode keeps no certificate key, so none is removed', async () => {
    const calls: Call[] = [];
    assert.equal(
      (await run(fakeActivities(calls), { spec: spec([], 1), tuning: fast }, (h) => h.result())).outcome,
      'completed',
    );
    assert.deepEqual(names(calls, 'removeCertificateKey'), []);
  });

  it("runs the phases in the procedure's order, control planes one at a time, one token per join phase", async () => {
    const calls: Call[] = [];
    let inflight = 0;
    let most = 0;
    const acts = fakeActivities(calls, {
      behave: async (name) => {
        if (name !== 'joinNode') return;
        most = Math.max(most, ++inflight);
        await new Promise((r) => setTimeout(r, 40));
        inflight--;
      },
    });
    let history = '';
    const result = await run(acts, { spec: spec() }, async (h) => {
      const r = await h.result();
      history = await historyText(h);
      return r;
    });
    assert.equal(result.outcome, 'completed');
    assert.equal(result.nodes.length, 7);
    assert.match(
      history,
      /"summary":\{"metadata":\{[^}]*\},"data":"\\"joinNode w3\\""/,
      'each scheduled activity names its host for the Web UI',
    );
    const order = calls.map((c) => c.name).filter((c, i, all) => all.indexOf(c) === i);
    assert.deepEqual(order, [
      'inspectHost',
      'probeLoadBalancer',
      'kubeadmInit',
      'installCni',
      'waitForSystemPods',
      'distributeCerts',
      'ensureJoinToken',
      'joinNode',
      'deleteJoinTokens:tok1',
      'deleteJoinTokens:tok2',
      'verifyNodes',
    ]);
    assert.deepEqual(names(calls, 'joinNode').slice(0, 2), ['cp2', 'cp3']);
    assert.deepEqual(names(calls, 'distributeCerts').sort(), ['cp2', 'cp3']);
    assert.equal(names(calls, 'ensureJoinToken').length, 2, 'one token per join phase, not per host');
    assert.ok(most <= 2, `workerConcurrency 2 must bound parallel joins (saw ${most})`);
    const ids = calls.filter((c) => c.stepId).map((c) => c.stepId!);
    assert.equal(new Set(ids).size, ids.length, 'every step has its own journal id');
  });

  it("sends a host's activities only to its zone's task queue; the others to the run's own", async () => {
    const onDefault: Call[] = [];
    const onZone: Call[] = [];
    const base = spec([], 4);
    const zoned = new Set(['w3', 'w4']);
    const input = {
      spec: { ...base, workers: base.workers.map((w) => (zoned.has(w.name) ? { ...w, taskQueue: 'zone-b' } : w)) },
    };
    const zoneWorker = await testWorker(server.env, fakeActivities(onZone), 'zone-b');
    const { result, scheduled } = await zoneWorker.runUntil(
      run(fakeActivities(onDefault), input, async (h) => {
        const result = await h.result();
        const events = (await h.fetchHistory()).events ?? [];
        const scheduled = events
          .map((e) => e.activityTaskScheduledEventAttributes)
          .filter((a) => a?.activityType?.name === 'joinNode')
          .map((a) => a!.taskQueue!.name);
        return { result, scheduled };
      }),
    );
    assert.equal(result.outcome, 'completed');
    assert.deepEqual([...new Set(onZone.map((c) => c.host))].sort(), ['w3', 'w4'], 'only the zone hosts ran on zone-b');
    for (const step of ['inspectHost', 'joinNode'])
      assert.deepEqual(names(onZone, step).sort(), ['w3', 'w4'], `${step} of w3 and w4 ran on zone-b`);
    assert.ok(!onDefault.some((c) => c.host && zoned.has(c.host)), 'no step of w3 or w4 on the default queue');
    assert.deepEqual(scheduled.filter((q) => q === 'zone-b').length, 2, 'two joinNode tasks scheduled on zone-b');
  });

  it('waits at each gate; the update refuses a phase that is not waiting; approvals land in history', async () => {
    const calls: Call[] = [];
    await run(fakeActivities(calls), { spec: spec(['init', 'joinControlPlanes', 'joinWorkers']) }, async (h) => {
      await waitFor(h, 'init');
      assert.ok(!names(calls, 'kubeadmInit').length, 'init must not run before approval');
      assert.equal((await h.query(progressQuery)).status, 'awaiting-approval');
      const d0 = await h.describe();
      assert.equal(d0.typedSearchAttributes.get(StatusKey), 'awaiting-approval');
      assert.equal(d0.typedSearchAttributes.get(PhaseKey), 'probeLoadBalancer');

      await assert.rejects(
        h.executeUpdate(approveUpdate, { args: [{ phase: 'joinWorkers', approver: 'alice' }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError &&
          /"joinWorkers" is not waiting for approval; "init" is/.test(String(err.cause?.message)),
      );
      await assert.rejects(
        h.executeUpdate(approveUpdate, { args: [{ phase: 'init', approver: ' ' }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError && /approver name is required/.test(String(err.cause?.message)),
      );
      await h.executeUpdate(approveUpdate, { args: [{ phase: 'init', approver: 'alice', comment: 'change 42' }] });
      await waitFor(h, 'joinControlPlanes');
      await h.signal(approveSignal, { phase: 'joinControlPlanes', approver: 'bob' }); // as from the Web UI
      await waitFor(h, 'joinWorkers');
      await h.executeUpdate(approveUpdate, { args: [{ phase: 'joinWorkers', approver: 'carol' }] });
      const result = await h.result();
      await recordHistory(h, 'gates', server.env.address, TEMPORAL_CLI);
      assert.equal(result.outcome, 'completed');
      assert.deepEqual(
        result.decisions.map((x) => `${x.key}:${x.approver}`),
        ['gate:init:alice', 'gate:joinControlPlanes:bob', 'gate:joinWorkers:carol'],
      );
      const history = await historyText(h);
      assert.match(history, /\\"approver\\":\\"alice\\",\\"comment\\":\\"change 42\\"/);
      assert.match(history, /EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED.*\\"approver\\":\\"bob\\"/);
      const d = await h.describe();
      assert.equal(d.typedSearchAttributes.get(StatusKey), 'completed');
      assert.equal(
        (d.memo?.[PROGRESS_MEMO] as Progress).status,
        'completed',
        'a closed run shows its progress from the memo',
      );
    });
  });

  it('a rejection stops the run cleanly before the phase changes anything', async () => {
    const calls: Call[] = [];
    await run(fakeActivities(calls), { spec: spec(['init']) }, async (h) => {
      await waitFor(h, 'init');
      await h.executeUpdate(rejectUpdate, { args: [{ phase: 'init', approver: 'dave', reason: 'wrong LB' }] });
      const result = await h.result();
      assert.equal(result.outcome, 'rejected');
      assert.equal(result.rejection?.approver, 'dave');
      assert.ok(!names(calls, 'kubeadmInit').length);
    });
  });

  it('a cancelled run ends Cancelled, and its memo says so', async () => {
    const calls: Call[] = [];
    await run(fakeActivities(calls), { spec: spec(['init']) }, async (h) => {
      await waitFor(h, 'init');
      await h.cancel();
      await assert.rejects(
        h.result(),
        (err: unknown) => err instanceof WorkflowFailedError && err.cause?.name === 'CancelledFailure',
      );
      const d = await h.describe();
      assert.equal(d.status.name, 'CANCELLED');
      assert.equal((d.memo?.[PROGRESS_MEMO] as Progress).status, 'cancelled');
    });
  });

  it('a lost connection is retried by Temporal with the same journal id (the retry re-attaches)', async () => {
    const calls: Call[] = [];
    const acts = fakeActivities(calls, {
      behave: (name, host, c) => {
        if (name === 'joinNode' && host === 'w3' && c.attempt === 1)
          throw ApplicationFailure.retryable('w3: connection lost while a command was running', 'SshUnavailable');
      },
    });
    await run(acts, { spec: spec(), tuning: fast }, async (h) => {
      assert.equal((await h.result()).outcome, 'completed');
      const w3 = calls.filter((c) => c.name === 'joinNode' && c.host === 'w3');
      assert.deepEqual(
        w3.map((c) => c.attempt),
        [1, 2],
      );
      assert.equal(w3[0].stepId, w3[1].stepId);
      assert.ok(!names(calls, 'cleanNode').includes('w3'), 'no reset for a mere reconnect');
    });
  });

  it('a transient kubeadm failure is healed: the node is reset, then joined under a new journal id', async () => {
    const calls: Call[] = [];
    let failed = false;
    const acts = fakeActivities(calls, {
      behave: (name, host) => {
        if (name === 'joinNode' && host === 'cp2' && !failed) {
          failed = true;
          throw transient('cp2');
        }
      },
    });
    await run(acts, { spec: spec(), tuning: fast }, async (h) => {
      const result = await h.result();
      await recordHistory(h, 'healed-by-reset', server.env.address, TEMPORAL_CLI);
      assert.equal(result.outcome, 'completed');
      const cp2 = calls
        .filter((c) => c.host === 'cp2' && ['joinNode', 'cleanNode', 'distributeCerts'].includes(c.name))
        .map((c) => c.name);
      assert.deepEqual(
        cp2,
        ['distributeCerts', 'joinNode', 'cleanNode', 'distributeCerts', 'joinNode'],
        'reset wipes the certificates: they are copied again',
      );
      const ids = calls.filter((c) => c.host === 'cp2' && c.name === 'joinNode').map((c) => c.stepId);
      assert.notEqual(ids[0], ids[1]);
      assert.equal(result.progress.cleanups[0]?.host, 'cp2');
    });
  });

  for (const action of ['retry', 'skip', 'abort'] as const) {
    it(`a worker that keeps failing parks while the others finish; ${action} resolves it`, async () => {
      const calls: Call[] = [];
      let broken = true;
      const acts = fakeActivities(calls, {
        behave: (name, host) => {
          if (name === 'joinNode' && host === 'w2' && broken) throw preflight('w2');
        },
      });
      await run(acts, { spec: spec(), tuning: fast }, async (h) => {
        const p = await parkedOn(h, 'w2');
        assert.equal(p.status, 'parked');
        assert.deepEqual(p.parked[0].options, ['retry', 'skip', 'abort']);
        assert.match(p.parked[0].attempts[0].error, /Port-10250/);
        await until(h, 'other workers joined', (x) =>
          ['w1', 'w3', 'w4'].every((w) => x.hosts.find((y) => y.name === w)?.state === 'done'),
        );
        const parked = (await h.describe()).typedSearchAttributes;
        assert.equal(parked.get(StatusKey), 'parked');
        assert.equal(parked.get(FailedPhaseKey), 'joinWorkers');
        await assert.rejects(
          h.executeUpdate(resolveUpdate, { args: [{ host: 'w1', action, approver: 'erin' }] }),
          (err: unknown) =>
            err instanceof WorkflowUpdateFailedError &&
            /nothing is parked on host "w1"; parked: w2/.test(String(err.cause?.message)),
        );
        broken = false;
        if (action === 'retry')
          await h.signal(resolveSignal, { host: 'w2', action, approver: 'erin', reason: 'freed port 10250' });
        else
          await h.executeUpdate(resolveUpdate, {
            args: [{ host: 'w2', action, approver: 'erin', reason: 'node broken' }],
          });
        const r = await h.result();
        await recordHistory(h, `parked-${action}`, server.env.address, TEMPORAL_CLI);
        const ended = (await h.describe()).typedSearchAttributes;
        assert.equal(
          ended.get(FailedPhaseKey),
          'joinWorkers',
          'where the run parked stays searchable once it moves on',
        );
        assert.equal(ended.get(PhaseKey), action === 'abort' ? 'joinWorkers' : 'verifyNodes');
        const d = r.decisions.find((x) => x.host === 'w2')!;
        assert.equal(d.verdict, action);
        assert.equal(d.approver, 'erin');
        assert.equal(d.key, 'park:joinNode:w2:1');
        if (action === 'retry') {
          assert.equal(r.outcome, 'completed');
          assert.deepEqual(
            calls.filter((c) => c.host === 'w2' && c.name !== 'inspectHost').map((c) => c.name),
            ['joinNode', 'cleanNode', 'joinNode'],
          );
        } else if (action === 'skip') {
          assert.equal(r.outcome, 'completed-with-skipped');
          assert.deepEqual(r.skipped, ['w2']);
          assert.deepEqual(calls.filter((c) => c.name === 'verifyNodes').length, 1);
        } else {
          assert.equal(r.outcome, 'aborted');
          assert.ok(!names(calls, 'verifyNodes').length, 'nothing runs after an abort');
          assert.match(r.progress.lastError ?? '', /aborted by erin .*left as they are/);
        }
      });
    });
  }

  it('a clean-up that fails after a retry parks again and waits for a decision of its own', async () => {
    const calls: Call[] = [];
    let joinBroken = true;
    let cleanBroken = true;
    const acts = fakeActivities(calls, {
      behave: (name, host) => {
        if (host !== 'w1') return;
        if (name === 'joinNode' && joinBroken) throw preflight('w1');
        if (name === 'cleanNode' && cleanBroken)
          throw ApplicationFailure.nonRetryable('w1: kubeadm reset -f failed (exit 1)', 'StepFailed');
      },
    });
    await run(acts, { spec: spec([], 1), tuning: fast }, async (h) => {
      await parkedOn(h, 'w1');
      joinBroken = false;
      await h.executeUpdate(resolveUpdate, { args: [{ host: 'w1', action: 'retry', approver: 'erin' }] });
      const again = await until(h, 'the clean-up parked', (p) => p.parked.some((x) => x.key === 'park:joinNode:w1:2'));
      assert.match(again.parked[0].attempts[1].error, /clean-up before retrying: w1: kubeadm reset -f failed/);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(calls.filter((c) => c.name === 'cleanNode').length, 1, 'it waits instead of cleaning in a loop');
      cleanBroken = false;
      await h.executeUpdate(resolveUpdate, { args: [{ host: 'w1', action: 'retry', approver: 'erin' }] });
      assert.equal((await h.result()).outcome, 'completed');
      assert.deepEqual(
        calls.filter((c) => c.host === 'w1' && c.name !== 'inspectHost').map((c) => c.name),
        ['joinNode', 'cleanNode', 'cleanNode', 'joinNode'],
      );
    });
  });

  it('at scale the memo counts the running hosts and names only the first few; parked ones by name', async () => {
    const calls: Call[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const acts = fakeActivities(calls, {
      behave: async (name, host) => {
        if (name === 'joinNode' && host === 'w7') throw preflight('w7');
        if (name === 'joinNode' && host?.startsWith('w')) await held;
      },
    });
    await run(acts, { spec: { ...spec([], 40), workerConcurrency: 12 }, tuning: fast }, async (h) => {
      await parkedOn(h, 'w7');
      const memo = async () => (await h.describe()).memo?.[PROGRESS_MEMO] as Progress;
      // The park published the memo; wait for the other eleven joins to be running in it.
      let m = await memo();
      for (let i = 0; m.counts.running < 11 && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 100));
        m = await memo();
      }
      assert.equal(m.counts.running, 11);
      assert.equal(m.hosts.filter((x) => x.state === 'running').length, RUNNING_NAMED);
      assert.deepEqual(
        m.hosts.filter((x) => x.state === 'parked').map((x) => x.name),
        ['w7'],
      );
      assert.equal(
        (await h.query(progressQuery)).hosts.filter((x) => x.state === 'running').length,
        11,
        'the query still lists every host',
      );
      release();
      await h.executeUpdate(resolveUpdate, { args: [{ host: 'w7', action: 'skip', approver: 'erin' }] });
      assert.equal((await h.result()).outcome, 'completed-with-skipped');
    });
  });

  it('a worker skipped at inspection is left out of every later phase', async () => {
    const calls: Call[] = [];
    const acts = fakeActivities(calls, {
      behave: (name, host) => {
        if (name === 'inspectHost' && host === 'w3')
          throw ApplicationFailure.nonRetryable('w3: host key refused', 'HostKeyRejected');
      },
    });
    await run(acts, { spec: spec(), tuning: fast }, async (h) => {
      await parkedOn(h, 'w3');
      await h.executeUpdate(resolveUpdate, {
        args: [{ host: 'w3', action: 'skip', approver: 'erin', reason: 'decommissioned' }],
      });
      const r = await h.result();
      assert.equal(r.outcome, 'completed-with-skipped');
      assert.ok(!names(calls, 'joinNode').includes('w3'));
      assert.ok(!r.nodes.some((x) => x.name === 'w3'), 'verifyNodes does not expect it');
    });
  });

  it('a control plane cannot be skipped', async () => {
    const calls: Call[] = [];
    let broken = true;
    const acts = fakeActivities(calls, {
      behave: (name, host) => {
        if (name === 'joinNode' && host === 'cp3' && broken) throw preflight('cp3');
      },
    });
    await run(acts, { spec: spec(), tuning: fast }, async (h) => {
      await parkedOn(h, 'cp3');
      await assert.rejects(
        h.executeUpdate(resolveUpdate, { args: [{ host: 'cp3', action: 'skip', approver: 'erin' }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError && /only a worker can be skipped/.test(String(err.cause?.message)),
      );
      assert.ok(!names(calls, 'joinNode').some((x) => x?.startsWith('w')), 'workers wait for the control planes');
      broken = false;
      await h.executeUpdate(resolveUpdate, { args: [{ host: 'cp3', action: 'retry', approver: 'erin' }] });
      assert.equal((await h.result()).outcome, 'completed');
    });
  });

  it('a new run resumes from the facts: done phases are skipped with their reason and their gates are not asked', async () => {
    const calls: Call[] = [];
    const cp = (name: string) => ({ name, status: 'Ready', roles: ['control-plane'], version: 'v1.31.4', ready: true });
    const acts = fakeActivities(calls, {
      files: {
        cp1: JOINED_CP,
        cp2: { ...JOINED_CP, adminConf: false },
        cp3: CLEAN,
        w1: { ...CLEAN, kubeletConf: true },
        w2: JOINED_WORKER,
        w3: CLEAN,
        w4: CLEAN,
      },
      cluster: {
        caCertHash: `sha256:${'b'.repeat(64)}`,
        nodes: [cp('cp1'), cp('cp2'), { name: 'w2', status: 'Ready', roles: [], version: 'v1.31.4', ready: true }],
        etcdMembers: [
          { id: 'a1', name: 'cp1', peerURLs: ['https://10.0.0.1:2380'], clientURLs: [], started: true, learner: false },
          { id: 'a2', name: 'cp2', peerURLs: ['https://10.0.0.2:2380'], clientURLs: [], started: true, learner: false },
        ],
      },
    });
    await run(acts, { spec: spec(['init', 'joinControlPlanes', 'joinWorkers']), tuning: fast }, async (h) => {
      await waitFor(h, 'joinControlPlanes');
      const p = await h.query(progressQuery);
      const phase = (name: string) => p.phases.find((x) => x.name === name)!;
      assert.equal(phase('init').state, 'skipped');
      assert.match(phase('init').reason ?? '', /cp1 is already initialised/);
      assert.equal(phase('probeLoadBalancer').state, 'skipped');
      assert.ok(!p.decisions.length && !names(calls, 'kubeadmInit').length, 'the init gate was not asked');
      await h.executeUpdate(approveUpdate, { args: [{ phase: 'joinControlPlanes', approver: 'x' }] });
      await waitFor(h, 'joinWorkers');
      await h.executeUpdate(approveUpdate, { args: [{ phase: 'joinWorkers', approver: 'x' }] });
      assert.equal((await h.result()).outcome, 'completed');
      assert.deepEqual(names(calls, 'distributeCerts'), ['cp3']);
      assert.deepEqual(names(calls, 'joinNode').sort(), ['cp3', 'w1', 'w3', 'w4']);
      assert.deepEqual(names(calls, 'cleanNode'), ['w1'], 'the half-done worker is reset before its join');
      assert.ok(
        calls.filter((c) => c.name === 'joinNode').every((c) => c.host),
        'joins use the CA hash read from the cluster',
      );
      await recordHistory(h, 'resumed', server.env.address, TEMPORAL_CLI);
    });
  });

  it('a token that ran short while a host was parked is replaced before that host joins', async () => {
    const calls: Call[] = [];
    let broken = true;
    const acts = fakeActivities(calls, {
      tokenTtlMs: 1500,
      behave: (name, host) => {
        if (name === 'joinNode' && host === 'w1' && broken) throw preflight('w1');
      },
    });
    await run(
      acts,
      { spec: spec([], 2), tuning: { ...fast, token: { ttlSeconds: 2, minRemainingSeconds: 1 } } },
      async (h) => {
        await parkedOn(h, 'w1');
        await until(h, 'w2 joined', (p) => p.hosts.find((x) => x.name === 'w2')?.state === 'done');
        await new Promise((r) => setTimeout(r, 1600)); // the wave's token has now expired
        broken = false;
        await h.executeUpdate(resolveUpdate, { args: [{ host: 'w1', action: 'retry', approver: 'x' }] });
        assert.equal((await h.result()).outcome, 'completed');
        const w = calls.filter((c) => c.name === 'joinNode' && c.host?.startsWith('w'));
        const w2 = w.find((c) => c.host === 'w2')!;
        const w1 = w.filter((c) => c.host === 'w1');
        assert.equal(w1[0].token, w2.token, 'one token for the wave');
        assert.notEqual(w1[w1.length - 1].token, w2.token, 'a fresh token after the wait');
        const deleted = calls.filter((c) => c.name.startsWith('deleteJoinTokens:')).map((c) => c.name);
        assert.ok(
          deleted.some((d) => d.includes(w2.token!) && d.includes(w1[w1.length - 1].token!)),
          `minted tokens are deleted: ${deleted}`,
        );
      },
    );
  });

  // Never destroy what works: what could not be read parks, and what belongs to a live cluster is reset only by an operator.
  const CHANGING = [
    'probeLoadBalancer',
    'kubeadmInit',
    'installCni',
    'distributeCerts',
    'ensureJoinToken',
    'joinNode',
    'cleanNode',
    'uploadCerts',
    'removeCertificateKey',
  ];
  const changes = (calls: Call[]) =>
    calls.filter((c) => CHANGING.includes(c.name) || c.name.startsWith('deleteJoinTokens'));

  it('a finished cluster: every phase is skipped with the facts that show it, and nothing changes', async () => {
    const calls: Call[] = [];
    const f = finished();
    const r = await run(
      fakeActivities(calls, f),
      { spec: spec(['init', 'joinControlPlanes', 'joinWorkers']), tuning: fast },
      async (h) => {
        const result = await h.result();
        await recordHistory(h, 'nothing-to-do', server.env.address, TEMPORAL_CLI);
        return result;
      },
    );
    assert.equal(r.outcome, 'completed');
    assert.equal(r.nothingToDo, true);
    assert.deepEqual(changes(calls), [], 'no host-changing activity ran');
    assert.deepEqual(r.decisions, [], 'no gate was asked');
    const reason = (name: string) => r.progress.phases.find((p) => p.name === name)!;
    assert.match(
      reason('init').reason ?? '',
      /^cp1 is already initialised: initialised: Node cp1 is a control plane, etcd member a1 \(read through the load balancer\)$/,
    );
    assert.match(
      reason('joinControlPlanes').reason ?? '',
      /cp2: Node cp2 is a control plane, etcd member a2; cp3: Node cp3 is a control plane, etcd member a3/,
    );
    assert.match(reason('joinWorkers').reason ?? '', /every worker has joined: w1: Node w1 is registered and Ready/);
    for (const p of ['probeLoadBalancer', 'init', 'installCni', 'distributeCerts', 'joinControlPlanes', 'joinWorkers'])
      assert.equal(reason(p).state, 'skipped', p);
  });

  it('replaces a control plane and removes a worker: after the removeNodes gate, w2 then cp3 leave through cp1, then cp4 joins', async () => {
    const calls: Call[] = [];
    const f = finished(2);
    const s = spec([], 2);
    s.controlPlanes[2] = { ...s.controlPlanes[2], remove: true };
    s.controlPlanes.push({ name: 'cp4', address: '10.0.0.4', port: 22 });
    s.workers[1] = { ...s.workers[1], remove: true };
    let removedBeforeGate = -1;
    const r = await run(fakeActivities(calls, f), { spec: s, tuning: fast }, async (h) => {
      await waitFor(h, 'removeNodes');
      removedBeforeGate = calls.filter((c) => c.name === 'removeNode').length;
      await h.executeUpdate(approveUpdate, { args: [{ phase: 'removeNodes', approver: 'rita' }] });
      return h.result();
    });
    assert.equal(r.outcome, 'completed');
    assert.equal(removedBeforeGate, 0, 'nothing removed before the approval');
    const order = calls.filter((c) => ['removeNode', 'joinNode'].includes(c.name)).map((c) => `${c.name} ${c.host}`);
    assert.deepEqual(order, ['removeNode w2', 'removeNode cp3', 'joinNode cp4']);
    const cp3 = calls.find((c) => c.name === 'removeNode' && c.host === 'cp3')!.input as {
      role: string;
      via: { name: string };
      controlPlanes: { name: string }[];
    };
    assert.equal(cp3.role, 'control-plane');
    assert.equal(cp3.via.name, 'cp1');
    assert.deepEqual(
      cp3.controlPlanes.map((h) => h.name),
      ['cp1', 'cp2', 'cp4'],
      'etcd is read through the control planes that stay',
    );
    const verify = calls.find((c) => c.name === 'verifyNodes')!.input as { expected: { name: string }[] };
    assert.deepEqual(
      verify.expected.map((e) => e.name).sort(),
      ['cp1', 'cp2', 'cp4', 'w1'],
      'removed hosts are not expected',
    );
    assert.equal(r.decisions.filter((d) => d.phase === 'removeNodes').length, 1, 'one approval covers the removals');
    // The memo lists only hosts not done.
    for (const h of ['w2', 'cp3'])
      assert.equal(
        r.progress.hosts.find((x) => x.name === h),
        undefined,
        h,
      );
  });

  it('a host marked remove that is already out of the cluster: the removal phases are skipped with why', async () => {
    const calls: Call[] = [];
    const f = finished(1);
    const s = spec([], 2);
    s.workers[1] = { ...s.workers[1], remove: true };
    const r = await run(fakeActivities(calls, f), { spec: s, tuning: fast }, (h) => h.result());
    assert.equal(r.nothingToDo, true);
    assert.deepEqual(
      calls.filter((c) => c.name === 'removeNode'),
      [],
    );
    assert.match(
      r.progress.phases.find((p) => p.name === 'removeWorkers')!.reason ?? '',
      /^already out of the cluster \(no Node, nothing of kubeadm on the host\): w2$/,
    );
  });

  it('a NotReady node (its kubelet stopped) does not apply the CNI again', async () => {
    const calls: Call[] = [];
    const f = finished(1);
    f.cluster.nodes[1] = { ...(f.cluster.nodes[1] as object), status: 'NotReady', ready: false };
    const r = await run(fakeActivities(calls, f), { spec: spec([], 1), tuning: fast }, (h) => h.result());
    assert.deepEqual(changes(calls), []);
    assert.match(
      r.progress.phases.find((p) => p.name === 'installCni')!.reason ?? '',
      /the CNI works: 3 of 4 registered nodes are Ready \(NotReady: cp2\)/,
    );
  });

  it('an etcd member list that cannot be read parks every stacked control plane as unknown; a retry reads again', async () => {
    const calls: Call[] = [];
    const f = finished(1);
    const etcdUnknown = {
      fact: 'the etcd member list',
      command: 'curl -sS ... https://10.0.0.1:2379/v3/cluster/member/list',
      exitCode: 7,
      error:
        'etcd gateway on cp1: exit 7: Failed to connect; kubectl exec etcd-cp1: exit 1: Error from server (Forbidden)',
    };
    let readable = false;
    const { etcdMembers, ...noMembers } = f.cluster as { etcdMembers: unknown };
    const acts = fakeActivities(calls, {
      files: f.files,
      cluster: () => (readable ? f.cluster : ({ ...noMembers, etcdUnknown } as ClusterReading)),
    });
    await run(acts, { spec: spec([], 1), tuning: fast }, async (h) => {
      const p = await until(h, 'three control planes parked', (x) => x.parked.length === 3);
      for (const parked of p.parked) {
        assert.equal(parked.step, 'classifyNode');
        assert.deepEqual(parked.options, ['retry', 'abort']);
        assert.match(
          parked.attempts[0].error,
          /state unknown: whether cp\d is an etcd member decides whether it is joined; the etcd member list could not be established: `curl -sS .*` exited 7: .*Forbidden/,
        );
        assert.match(parked.retryWill?.[0] ?? '', /nothing on any host changes/);
      }
      assert.equal(p.hosts.find((x) => x.name === 'w1')?.state, 'done', 'the worker is known joined');
      assert.deepEqual(changes(calls), []);
      await assert.rejects(
        h.executeUpdate(resolveUpdate, { args: [{ host: 'cp1', action: 'skip', approver: 'erin' }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError && /"skip" is not possible/.test(String(err.cause?.message)),
      );
      readable = true;
      for (const cp of ['cp1', 'cp2', 'cp3'])
        await h.executeUpdate(resolveUpdate, { args: [{ host: cp, action: 'retry', approver: 'erin' }] });
      const r = await h.result();
      await recordHistory(h, 'unknown-retried', server.env.address, TEMPORAL_CLI);
      assert.equal(r.outcome, 'completed');
      assert.equal(r.nothingToDo, true);
      assert.deepEqual(changes(calls), [], 'not a reset, an init or a join, before or after the retry');
      assert.ok(
        names(calls, 'inspectHost').filter((x) => x === 'cp2').length === 2,
        'the retry inspected the host again',
      );
      void etcdMembers;
    });
  });

  it('no API server answers: hosts holding kubeadm files park as unknown, and an abort leaves them untouched', async () => {
    const calls: Call[] = [];
    const f = finished(2);
    const unknown = {
      fact: "the cluster's Nodes",
      command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes --request-timeout=10s',
      exitCode: 1,
      error:
        "through the load balancer: exit 1: Unable to connect to the server: dial tcp 10.0.9.1:6443: i/o timeout; cp1's API server https://10.0.0.1:6443: exit 1: The connection to the server 10.0.0.1:6443 was refused",
    };
    const acts = fakeActivities(calls, { files: { ...f.files, w2: CLEAN }, cluster: { unknown } });
    await run(acts, { spec: spec([], 2), tuning: fast }, async (h) => {
      const p = await until(h, 'parked', (x) => x.parked.length === 4);
      assert.deepEqual(
        p.parked.map((x) => x.host).sort(),
        ['cp1', 'cp2', 'cp3', 'w1'],
        'w2 holds nothing: it is clean, not unknown',
      );
      assert.match(
        p.parked.find((x) => x.host === 'cp1')!.attempts[0].error,
        /admin\.conf, kubelet\.conf, .* present; the cluster's Nodes could not be established: .*i\/o timeout.*was refused/,
      );
      await h.executeUpdate(resolveUpdate, {
        args: [{ host: 'w1', action: 'abort', approver: 'erin', reason: 'LB down' }],
      });
      const r = await h.result();
      assert.equal(r.outcome, 'aborted');
      assert.deepEqual(changes(calls), []);
    });
  });

  it('a half-done control plane that is an etcd member parks for approval before its reset; the retry resets it and removes its member', async () => {
    const calls: Call[] = [];
    const f = finished(1);
    f.files.cp3 = { ...JOINED_CP, manifests: ['kube-controller-manager', 'kube-scheduler', 'etcd'] };
    const acts = fakeActivities(calls, f);
    await run(acts, { spec: spec([], 1), tuning: fast }, async (h) => {
      const p = await parkedOn(h, 'cp3');
      const parked = p.parked[0];
      assert.equal(parked.step, 'distributeCerts');
      assert.match(
        parked.attempts[0].error,
        /^reset needs an operator: cp3 is half-done \(.*missing manifests kube-apiserver\) and belongs to a live cluster: Node cp3 is registered; etcd member a3 \(cp3\) is listed$/,
      );
      assert.deepEqual(parked.retryWill, [
        'kubeadm reset -f on cp3, removing kubelet.conf, kube-controller-manager.yaml, kube-scheduler.yaml, etcd.yaml, /var/lib/etcd/member, etcd member a3',
        "remove cp3's etcd member through cp1, if it is listed",
        'distributeCerts on cp3',
      ]);
      assert.deepEqual(changes(calls), [], 'nothing is reset before the operator decides');
      // The Web UI shows the run's current details: the park's reason and what a retry does.
      const meta = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      assert.match(
        meta.currentDetails ?? '',
        /parked: distributeCerts on \*\*cp3\*\*.*\n\n\*\*cp3\*\*: reset needs an operator: cp3 is half-done .*; a retry will: \(1\) kubeadm reset -f on cp3, removing .* \(2\) remove cp3's etcd member through cp1/s,
      );
      await h.executeUpdate(resolveUpdate, {
        args: [{ host: 'cp3', action: 'retry', approver: 'erin', reason: 'CHG-1' }],
      });
      const r = await h.result();
      await recordHistory(h, 'reset-approved', server.env.address, TEMPORAL_CLI);
      assert.equal(r.outcome, 'completed');
      const clean = calls.find((c) => c.name === 'cleanNode')!;
      assert.deepEqual(
        [
          clean.host,
          (clean.input as { approvedBy?: string }).approvedBy,
          (clean.input as { healthy?: { name: string } }).healthy?.name,
        ],
        ['cp3', 'erin', 'cp1'],
      );
      assert.deepEqual(
        changes(calls)
          .map((c) => `${c.name} ${c.host ?? ''}`.trim())
          .filter((c) => !c.startsWith('ensureJoinToken') && !c.startsWith('deleteJoinTokens')),
        ['cleanNode cp3', 'distributeCerts cp3', 'joinNode cp3'],
      );
    });
  });

  it('a half-done worker with no Node is reset and joined by itself, as before', async () => {
    const calls: Call[] = [];
    const f = finished(2);
    f.cluster.nodes.splice(
      f.cluster.nodes.findIndex((n) => (n as { name: string }).name === 'w2'),
      1,
    );
    const r = await run(fakeActivities(calls, f), { spec: spec([], 2), tuning: fast }, (h) => h.result());
    assert.equal(r.outcome, 'completed');
    assert.deepEqual(r.decisions, []);
    assert.deepEqual(
      changes(calls)
        .map((c) => `${c.name} ${c.host ?? ''}`.trim())
        .filter((c) => !/JoinToken/.test(c)),
      ['cleanNode w2', 'joinNode w2'],
    );
    assert.equal((calls.find((c) => c.name === 'cleanNode')!.input as { approvedBy?: string }).approvedBy, undefined);
  });

  it('the first control plane is never reset without an operator, even after its own init failed in this run', async () => {
    const calls: Call[] = [];
    let failed = false;
    const acts = fakeActivities(calls, {
      behave: (name) => {
        if (name === 'kubeadmInit' && !failed) {
          failed = true;
          throw ApplicationFailure.nonRetryable(
            'cp1: kubeadm init failed (exit 1): wait-control-plane',
            'KubeadmTransient',
          );
        }
      },
    });
    await run(acts, { spec: spec([], 1), tuning: fast }, async (h) => {
      const p = await parkedOn(h, 'cp1');
      assert.equal(p.parked[0].step, 'kubeadmInit');
      assert.deepEqual(p.parked[0].retryWill, [
        'kubeadm reset -f on cp1, removing what the failed attempt left',
        'kubeadmInit on cp1',
      ]);
      assert.ok(!names(calls, 'cleanNode').length, 'no automatic reset of the first control plane');
      await h.executeUpdate(resolveUpdate, { args: [{ host: 'cp1', action: 'retry', approver: 'erin' }] });
      assert.equal((await h.result()).outcome, 'completed');
      assert.equal((calls.find((c) => c.name === 'cleanNode')!.input as { approvedBy?: string }).approvedBy, 'erin');
      assert.equal(names(calls, 'kubeadmInit').length, 2);
    });
  });
});
