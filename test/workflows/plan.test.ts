// `kubeadm-ha plan` against what a start then does, host by host, with stand-in activities: on a
// fresh fleet, a half-done one and a finished one. The plan must name every host a start changes,
// with the same kubeadm steps in the same order, and nothing else; and it runs only read-only
// activities.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterReading } from '../../src/activities/types';
import { approveUpdate, progressQuery, TASK_QUEUE } from '../../src/shared/definitions';
import type { ClusterPlan } from '../../src/shared/plan';
import { haClusterWorkflow, planClusterWorkflow } from '../../src/workflows';
import type { HaClusterInput } from '../../src/workflows/ha-cluster';
import { onTestServer, testWorker } from '../helpers/temporal';
import { type Call, CLEAN, fakeActivities, type FakeOptions, finished, JOINED_WORKER, spec } from './fakes';

/** The host-changing steps per host, in order, as a plan's actions say them. */
function plannedSteps(p: ClusterPlan): Record<string, string[]> {
  const steps: Record<string, string[]> = {};
  const verb: Record<string, string> = {
    etcdCluster: 'etcd',
    init: 'init',
    distributeCerts: 'copy',
    joinControlPlanes: 'join',
    joinWorkers: 'join',
    installCni: 'cni',
  };
  for (const ph of p.phases) {
    if (!verb[ph.name]) continue;
    for (const a of ph.actions ?? []) {
      if (a.action.startsWith('keep')) continue;
      (steps[a.host] ??= []).push(...(a.action.startsWith('reset') ? ['reset'] : []), verb[ph.name]);
    }
  }
  return steps;
}

/** The host-changing activities per host, in order, as a start ran them. */
function ranSteps(calls: Call[]): Record<string, string[]> {
  const verb: Record<string, string> = {
    buildEtcdMember: 'etcd',
    kubeadmInit: 'init',
    distributeCerts: 'copy',
    joinNode: 'join',
    installCni: 'cni',
    cleanNode: 'reset',
  };
  const steps: Record<string, string[]> = {};
  for (const c of calls) if (verb[c.name] && c.host) (steps[c.host] ??= []).push(verb[c.name]);
  return steps;
}

describe('plan against start, host by host', () => {
  const server = onTestServer();
  let n = 0;

  /** The plan, then a start on the same stand-ins: the calls each made. */
  async function planThenStart(input: HaClusterInput, o: FakeOptions) {
    const planCalls: Call[] = [];
    const startCalls: Call[] = [];
    const worker = async (calls: Call[]) => testWorker(server.env, fakeActivities(calls, o));
    const plan = await (
      await worker(planCalls)
    ).runUntil(
      server.env.client.workflow.execute(planClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `plan-${++n}`,
        args: [{ spec: input.spec }],
      }),
    );
    const result = await (
      await worker(startCalls)
    ).runUntil(async () => {
      const h = await server.env.client.workflow.start(haClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `start-${n}`,
        args: [input],
      });
      // An operator who approves every gate the run asks for, so the test sees which ones it asked.
      // The result is asked for only at the end: awaiting it lets the test server skip time.
      for (;;) {
        const p = await h.query(progressQuery);
        if (!['running', 'awaiting-approval', 'parked'].includes(p.status)) break;
        if (p.awaitingApproval)
          await h.executeUpdate(approveUpdate, { args: [{ phase: p.awaitingApproval, approver: 'test' }] });
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = await h.result();
      return r;
    });
    assert.deepEqual(
      [...new Set(planCalls.map((c) => c.name))].sort(),
      ['inspectHost', 'readCluster'].filter((a) => planCalls.some((c) => c.name === a)),
      'a plan runs only the read-only activities',
    );
    return { plan, result, planCalls, startCalls };
  }

  it('a fresh fleet: init, the CNI, copies, and every join, with the gates a start asks for', async () => {
    const { plan, result, startCalls } = await planThenStart({ spec: spec(['init', 'joinWorkers'], 3) }, {});
    assert.deepEqual(plannedSteps(plan), ranSteps(startCalls));
    assert.deepEqual(plannedSteps(plan), {
      cp1: ['init', 'cni'],
      cp2: ['copy', 'join'],
      cp3: ['copy', 'join'],
      w1: ['join'],
      w2: ['join'],
      w3: ['join'],
    });
    assert.deepEqual(plan.gates, ['init', 'joinWorkers']);
    assert.equal(plan.nothingToDo, false);
    assert.equal(result.outcome, 'completed');
    assert.deepEqual(
      result.decisions.map((d) => d.phase),
      plan.gates,
      'the start asked for exactly the gates the plan named',
    );
  });

  it("a half-done fleet: the plan names the reset of the worker whose Node is gone, and the clean worker's join; nothing else", async () => {
    const f = finished(3);
    const files = { ...f.files, w1: JOINED_WORKER, w2: CLEAN };
    const cluster = {
      ...f.cluster,
      nodes: f.cluster.nodes.filter((x) => !['w1', 'w2'].includes((x as { name: string }).name)),
    };
    const { plan, result, startCalls } = await planThenStart(
      { spec: spec([], 3) },
      { files, cluster: cluster as ClusterReading },
    );
    assert.deepEqual(plannedSteps(plan), { w1: ['reset', 'join'], w2: ['join'] });
    assert.deepEqual(plannedSteps(plan), ranSteps(startCalls));
    const w1 = plan.phases.find((p) => p.name === 'joinWorkers')!.actions!.find((a) => a.host === 'w1')!;
    assert.match(w1.action, /^reset what an earlier attempt left \(kubelet\.conf.*\), then kubeadm join$/);
    assert.equal(plan.hosts.find((h) => h.name === 'w1')!.state, 'half-done');
    assert.match(plan.phases.find((p) => p.name === 'init')!.skip!, /cp1 is already initialised/);
    assert.equal(result.outcome, 'completed');
  });

  it('a finished fleet: nothing to do, every changing phase skipped with its reason; the fingerprint is stable and follows the facts', async () => {
    const f = finished(3);
    const { plan, result, startCalls } = await planThenStart(
      { spec: spec(['init', 'joinWorkers'], 3) },
      { files: f.files, cluster: f.cluster },
    );
    assert.equal(plan.nothingToDo, true);
    assert.deepEqual(plan.gates, [], 'no gate is asked for a phase with nothing to do');
    assert.deepEqual(plannedSteps(plan), {});
    assert.deepEqual(ranSteps(startCalls), {});
    assert.equal(result.nothingToDo, true);
    assert.deepEqual(result.decisions, [], 'no gate was asked');
    for (const p of plan.phases.filter((x) => !x.readOnly)) assert.ok(p.skip, `${p.name} is skipped`);
    assert.match(plan.fingerprint, /^[0-9a-f]{64}$/);
    const again = await planThenStart(
      { spec: spec(['init', 'joinWorkers'], 3) },
      { files: f.files, cluster: f.cluster },
    );
    assert.equal(again.plan.fingerprint, plan.fingerprint, 'the same facts give the same fingerprint');
    const drifted = {
      ...f.cluster,
      nodes: f.cluster.nodes.map((x) =>
        (x as { name: string }).name === 'w3' ? { ...(x as object), ready: false } : x,
      ),
    };
    const other = await planThenStart({ spec: spec([], 3) }, { files: f.files, cluster: drifted as typeof f.cluster });
    assert.notEqual(other.plan.fingerprint, plan.fingerprint, 'a NotReady node changes the fingerprint');
  });

  it('a host that cannot be inspected: the plan says a start parks there, and changes no host', async () => {
    const { plan } = await (async () => {
      const calls: Call[] = [];
      const behave = (name: string, host: string | undefined) => {
        if (name === 'inspectHost' && host === 'w2')
          throw Object.assign(new Error('w2: connection refused'), { name: 'SshUnavailable' });
      };
      const worker = await testWorker(server.env, fakeActivities(calls, { behave }));
      const p = await worker.runUntil(
        server.env.client.workflow.execute(planClusterWorkflow, {
          taskQueue: TASK_QUEUE,
          workflowId: `plan-${++n}`,
          args: [{ spec: spec([], 3), retry: { initialInterval: '10ms' } }],
        }),
      );
      return { plan: p };
    })();
    const w2 = plan.hosts.find((h) => h.name === 'w2')!;
    assert.equal(w2.state, 'unknown');
    assert.match(w2.detail!, /cannot be inspected: .*connection refused/);
    assert.match(
      plan.phases[0].actions!.find((a) => a.host === 'w2')!.action,
      /^inspect, then park \(retry or abort\)/,
    );
    assert.equal(plan.nothingToDo, false);
  });
});
