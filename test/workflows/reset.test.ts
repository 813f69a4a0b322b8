// The reset workflow's decisions on the time-skipping test server, with stand-in activities: one
// approval listing the hosts before anything changes, workers first, then the control planes one at
// a time with the first one last, then the etcd hosts; hosts that hold nothing are left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approveUpdate, type Progress, progressQuery, rejectUpdate, TASK_QUEUE } from '../../src/shared/definitions';
import { resetClusterWorkflow } from '../../src/workflows';
import type { ResetClusterInput, ResetClusterResult } from '../../src/workflows/reset-cluster';
import { onTestServer, testWorker } from '../helpers/temporal';
import { type Call, CLEAN, fakeActivities, finished, JOINED_CP, spec } from './fakes';

describe('resetClusterWorkflow on the time-skipping test server', () => {
  const server = onTestServer();
  let n = 0;

  /** Runs a reset; `decide` answers its gate (approve unless told otherwise). */
  async function reset(
    calls: Call[],
    files: Record<string, typeof CLEAN>,
    input: ResetClusterInput,
    decide: 'approve' | 'reject' = 'approve',
  ): Promise<{ result: ResetClusterResult; gate: Progress | undefined; resetsAtGate: number }> {
    const worker = await testWorker(server.env, fakeActivities(calls, { files }));
    return worker.runUntil(async () => {
      const h = await server.env.client.workflow.start(resetClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `reset-test-${++n}`,
        args: [input],
      });
      let gate: Progress | undefined;
      let resetsAtGate = 0;
      for (let i = 0; i < 400; i++) {
        const p = await h.query(progressQuery);
        if (p.awaitingApproval === 'reset') {
          gate = p;
          resetsAtGate = calls.filter((c) => c.name === 'resetNode').length;
          break;
        }
        if (p.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (gate) {
        const args: [{ phase: 'reset'; approver: string }] = [{ phase: 'reset', approver: 'olga' }];
        if (decide === 'approve') await h.executeUpdate(approveUpdate, { args });
        else await h.executeUpdate(rejectUpdate, { args });
      }
      return { result: await h.result(), gate, resetsAtGate };
    });
  }
  const resets = (calls: Call[]) => calls.filter((c) => c.name === 'resetNode');

  it('asks once, listing the hosts; then workers, then cp3, cp2 and the first control plane last, with the approver', async () => {
    const calls: Call[] = [];
    const { files } = finished(2);
    files.w2 = CLEAN; // a worker that holds nothing is left alone
    const { result, gate, resetsAtGate } = await reset(calls, files, { spec: spec([], 2) });
    assert.ok(gate, 'the run waited at the reset gate');
    assert.equal(gate.phases.find((p) => p.name === 'resetWorkers')?.state, 'pending');
    assert.equal(resetsAtGate, 0, 'nothing was reset before the approval');
    assert.equal(result.outcome, 'completed');
    assert.deepEqual(
      resets(calls).map((c) => c.host),
      ['w1', 'cp3', 'cp2', 'cp1'],
    );
    assert.deepEqual(result.reset, ['w1', 'cp3', 'cp2', 'cp1']);
    const first = resets(calls).find((c) => c.host === 'cp1')!.input as { first: boolean; approvedBy?: string };
    assert.equal(first.first, true);
    assert.equal(first.approvedBy, 'olga');
    assert.ok(
      calls.filter((c) => c.name === 'inspectHost').every((c) => (c.input as { forReset?: boolean }).forReset),
      'inspection asks only what a reset needs',
    );
    const stepIds = resets(calls).map((c) => c.stepId);
    assert.equal(new Set(stepIds).size, stepIds.length, 'each host reset once, under its own journal id');
  });

  it('a rejection resets nothing', async () => {
    const calls: Call[] = [];
    const { result } = await reset(calls, finished(1).files, { spec: spec([], 1) }, 'reject');
    assert.equal(result.outcome, 'rejected');
    assert.equal(result.rejection?.approver, 'olga');
    assert.deepEqual(resets(calls), []);
  });

  it('hosts that hold nothing of kubeadm: nothing to do, and no approval is asked', async () => {
    const calls: Call[] = [];
    const { result, gate } = await reset(calls, {}, { spec: spec([], 1) });
    assert.equal(gate, undefined);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.nothingToDo, true);
    assert.deepEqual(resets(calls), []);
  });

  it('external etcd built by kubeadm-ha: the etcd hosts go after the control planes', async () => {
    const calls: Call[] = [];
    const etcd = {
      hosts: ['etcd1', 'etcd2', 'etcd3'].map((name, i) => ({ name, address: `10.0.2.${i + 1}`, port: 22 })),
    };
    const etcdFiles = { ...CLEAN, manifests: ['etcd'], etcdData: true, kubeletConf: false };
    const files = { cp1: JOINED_CP, cp2: JOINED_CP, etcd1: etcdFiles, etcd3: etcdFiles };
    const { result } = await reset(calls, files, { spec: { ...spec([], 0), topology: 'external', etcd } });
    assert.equal(result.outcome, 'completed');
    assert.deepEqual(
      resets(calls).map((c) => c.host),
      ['cp2', 'cp1', 'etcd3', 'etcd1'],
    );
  });
});
