// The workflow's decisions on a real Temporal dev server, with stand-in activities:
// phase order, approval gates (update + signal), rejection, retries, a failing join, and history.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { HostInput, KubeadmHaActivities } from '../../src/activities/types';
import type { ClusterSpec, GatedPhase } from '../../src/config/types';
import {
  approveSignal, approveUpdate, PhaseKey, progressQuery, rejectUpdate, TASK_QUEUE,
} from '../../src/shared/definitions';
import type { HaClusterInput, HaClusterResult } from '../../src/workflows/ha-cluster';
import { historyText } from '../helpers/history';
import { startDevServer, workflowBundle } from '../helpers/temporal';

const spec = (approvals: GatedPhase[] = []): ClusterSpec => ({
  name: 'wf-test', kubernetesVersion: 'v1.31.4', topology: 'stacked',
  loadBalancer: { host: 'lb.example', port: 6443 }, networking: { podSubnet: '192.168.0.0/16' },
  cniManifest: '/dev/null', ssh: { user: 'kha', privateKeyFile: '/k', knownHostsFile: '/kh', port: 22 },
  controlPlanes: ['cp1', 'cp2', 'cp3'].map((name, i) => ({ name, address: `10.0.0.${i + 1}`, port: 22 })),
  workers: ['w1', 'w2', 'w3', 'w4'].map((name, i) => ({ name, address: `10.0.1.${i + 1}`, port: 22 })),
  approvals, workerConcurrency: 2,
});

/** Activities that only record what ran; `fail` lets a test break one step. */
function fakeActivities(calls: string[], fail: (name: string, host?: string) => void = () => undefined): KubeadmHaActivities {
  let inFlightWorkers = 0;
  const step = (name: string) => async (input: Partial<HostInput>) => {
    const host = input.host?.name;
    calls.push(host ? `${name}:${host}` : name);
    fail(name, host);
    return { alreadyDone: false, detail: `${name} ok` };
  };
  return {
    inspectHost: async ({ host }) => { calls.push(`inspectHost:${host.name}`); return { name: host.name, hostname: host.name, kubeadmVersion: 'v1.31.4', state: 'clean' }; },
    probeLoadBalancer: async () => { calls.push('probeLoadBalancer'); fail('probeLoadBalancer'); return { outcome: 'refused', message: 'ok' }; },
    kubeadmInit: async () => { calls.push('kubeadmInit'); fail('kubeadmInit'); return { alreadyDone: false, endpoint: 'lb.example:6443', caCertHash: 'sha256:' + 'a'.repeat(64) }; },
    installCni: step('installCni'),
    waitForSystemPods: step('waitForSystemPods'),
    distributeCerts: step('distributeCerts'),
    joinControlPlane: step('joinControlPlane'),
    joinWorker: async (input) => {
      inFlightWorkers++;
      calls.push(`joinWorker:${input.host.name}:inflight=${inFlightWorkers}`);
      try {
        await new Promise((r) => setTimeout(r, 50));
        fail('joinWorker', input.host.name);
        return { alreadyDone: false, detail: 'joined as worker' };
      } finally {
        inFlightWorkers--;
      }
    },
    verifyNodesReady: async ({ spec: s }) => {
      calls.push('verifyNodesReady');
      return { nodes: [...s.controlPlanes, ...s.workers].map((h) => ({ name: h.name, ready: true, roles: [] })) };
    },
  };
}

describe('haClusterWorkflow on a real dev server', () => {
  let env: TestWorkflowEnvironment;
  let n = 0;
  before(async () => {
    env = await startDevServer();
    await workflowBundle();
  });
  after(async () => { await env?.teardown(); });

  async function run<T>(activities: KubeadmHaActivities, input: HaClusterInput,
    body: (h: WorkflowHandle) => Promise<T>): Promise<T> {
    const worker = await Worker.create({
      connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities,
    });
    return worker.runUntil(async () => {
      const h = await env.client.workflow.start('haClusterWorkflow', {
        taskQueue: TASK_QUEUE, workflowId: `wf-test-${++n}-${Date.now()}`, args: [input],
      });
      return body(h);
    });
  }
  const waitFor = async (h: WorkflowHandle, phase: GatedPhase) => {
    for (let i = 0; i < 200; i++) {
      if ((await h.query(progressQuery)).awaitingApproval === phase) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never waited for ${phase}`);
  };

  it('runs the phases in the procedure\'s order, control planes one at a time, workers bounded', async () => {
    const calls: string[] = [];
    const result = await run(fakeActivities(calls), { spec: spec() }, (h) => h.result()) as HaClusterResult;
    assert.equal(result.outcome, 'completed');
    assert.equal(result.nodes.length, 7);
    const order = calls.map((c) => c.split(':')[0]).filter((c, i, all) => all.indexOf(c) === i);
    assert.deepEqual(order, ['inspectHost', 'probeLoadBalancer', 'kubeadmInit', 'installCni', 'waitForSystemPods',
      'distributeCerts', 'joinControlPlane', 'joinWorker', 'verifyNodesReady']);
    assert.deepEqual(calls.filter((c) => c.startsWith('joinControlPlane')), ['joinControlPlane:cp2', 'joinControlPlane:cp3']);
    assert.ok(!calls.some((c) => c.startsWith('distributeCerts:cp1') || c.startsWith('joinControlPlane:cp1')));
    const inflight = calls.filter((c) => c.startsWith('joinWorker')).map((c) => Number(c.split('=')[1]));
    assert.equal(Math.max(...inflight), 2, `workerConcurrency 2 must bound parallel joins: ${inflight}`);
  });

  it('waits at each gate; the update refuses a phase that is not waiting; approvals land in history', async () => {
    const calls: string[] = [];
    await run(fakeActivities(calls), { spec: spec(['init', 'joinControlPlanes', 'joinWorkers']) }, async (h) => {
      await waitFor(h, 'init');
      assert.ok(!calls.includes('kubeadmInit'), 'init must not run before approval');
      const p = await h.query(progressQuery);
      assert.equal(p.status, 'awaiting-approval');
      assert.equal((await h.describe()).typedSearchAttributes.get(PhaseKey), 'awaiting-approval:init');

      await assert.rejects(h.executeUpdate(approveUpdate, { args: [{ phase: 'joinWorkers', approver: 'alice' }] }),
        (err: unknown) => err instanceof WorkflowUpdateFailedError && /"joinWorkers" is not waiting for approval; "init" is/.test(String(err.cause?.message)));
      await assert.rejects(h.executeUpdate(approveUpdate, { args: [{ phase: 'init', approver: ' ' }] }),
        (err: unknown) => err instanceof WorkflowUpdateFailedError && /approver name is required/.test(String(err.cause?.message)));

      const d = await h.executeUpdate(approveUpdate, { args: [{ phase: 'init', approver: 'alice', comment: 'change 42' }] });
      assert.equal(d.verdict, 'approved');
      await waitFor(h, 'joinControlPlanes');
      assert.ok(calls.includes('kubeadmInit') && !calls.some((c) => c.startsWith('distributeCerts')));
      await h.signal(approveSignal, { phase: 'joinControlPlanes', approver: 'bob' }); // as from the Web UI
      await waitFor(h, 'joinWorkers');
      await h.executeUpdate(approveUpdate, { args: [{ phase: 'joinWorkers', approver: 'carol' }] });
      const result = (await h.result()) as HaClusterResult;
      assert.equal(result.outcome, 'completed');
      assert.deepEqual(result.decisions.map((x) => `${x.phase}:${x.approver}`), ['init:alice', 'joinControlPlanes:bob', 'joinWorkers:carol']);

      const history = await historyText(h);
      assert.match(history, /\\"approver\\":\\"alice\\",\\"comment\\":\\"change 42\\"/);
      assert.match(history, /EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED.*\\"approver\\":\\"bob\\"/);
      assert.match(history, /EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED.*\\"approver\\":\\"carol\\"/);
      assert.equal((await h.describe()).typedSearchAttributes.get(PhaseKey), 'completed');
    });
  });

  it('a rejection stops the run cleanly before the phase changes anything', async () => {
    const calls: string[] = [];
    await run(fakeActivities(calls), { spec: spec(['init']) }, async (h) => {
      await waitFor(h, 'init');
      await h.executeUpdate(rejectUpdate, { args: [{ phase: 'init', approver: 'dave', reason: 'wrong LB' }] });
      const result = (await h.result()) as HaClusterResult;
      assert.equal(result.outcome, 'rejected');
      assert.equal(result.rejection?.approver, 'dave');
      assert.ok(!calls.includes('kubeadmInit'));
      assert.equal((await h.query(progressQuery)).status, 'rejected');
      assert.equal((await h.describe()).status.name, 'COMPLETED');
    });
  });

  it('a cancelled run ends Cancelled, not Failed, and says so', async () => {
    const calls: string[] = [];
    await run(fakeActivities(calls), { spec: spec(['init']) }, async (h) => {
      await waitFor(h, 'init');
      await h.cancel();
      await assert.rejects(h.result(), (err: unknown) => err instanceof WorkflowFailedError && err.cause?.name === 'CancelledFailure');
      assert.equal((await h.describe()).status.name, 'CANCELLED');
      assert.equal((await h.query(progressQuery)).status, 'cancelled');
      assert.ok(!calls.includes('kubeadmInit'));
    });
  });

  it('retries a step that can heal, and the retry shows in history', async () => {
    const calls: string[] = [];
    let failures = 0;
    const acts = fakeActivities(calls, (name, host) => {
      if (name === 'joinWorker' && host === 'w3' && Context.current().info.attempt === 1) {
        failures++;
        throw ApplicationFailure.retryable('w3: ssh connection lost', 'SshUnavailable');
      }
    });
    await run(acts, { spec: spec(), retry: { initialInterval: '100ms', maximumAttempts: 3 } }, async (h) => {
      assert.equal(((await h.result()) as HaClusterResult).outcome, 'completed');
      assert.equal(failures, 1);
      const events = (await h.fetchHistory()).events ?? [];
      assert.ok(events.some((e) => e.activityTaskStartedEventAttributes?.attempt === 2), 'second attempt recorded');
    });
  });

  it('a join that cannot heal fails the run, names the host, and stops before the workers', async () => {
    const calls: string[] = [];
    const acts = fakeActivities(calls, (name, host) => {
      if (name === 'joinControlPlane' && host === 'cp3') {
        throw ApplicationFailure.nonRetryable('cp3: kubeadm join failed: [ERROR Port-10250]: Port 10250 is in use', 'KubeadmPreflight');
      }
    });
    await run(acts, { spec: spec(), retry: { initialInterval: '100ms', maximumAttempts: 5 } }, async (h) => {
      await assert.rejects(h.result(), (err: unknown) => err instanceof WorkflowFailedError &&
        /joinControlPlanes: join as control plane failed on 1 host\(s\): cp3: .*Port-10250/.test(String(err.cause?.message)));
      assert.equal(calls.filter((c) => c === 'joinControlPlane:cp3').length, 1, 'non-retryable: one attempt');
      assert.ok(!calls.some((c) => c.startsWith('joinWorker')));
      const p = await h.query(progressQuery);
      assert.equal(p.status, 'failed');
      assert.equal(p.hosts.find((x) => x.name === 'cp3')?.state, 'failed');
      assert.equal(p.hosts.find((x) => x.name === 'cp2')?.state, 'done');
      assert.match(p.lastError ?? '', /Port 10250 is in use/);
      assert.equal(p.phases.find((x) => x.name === 'joinControlPlanes')?.state, 'failed');
    });
  });
});
