// The upgrade workflow's decisions on the time-skipping test server, with stand-in activities that
// move a node's versions as they upgrade it: one approval before anything changes; a backup, then the
// first control plane, the others one at a time, then the workers; one hop per run, continued as new
// for the next; a drain a PodDisruptionBudget stopped parks with --disable-eviction offered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import type { ClusterSpec } from '../../src/config/types';
import type { NodeVersions } from '../../src/kubeadm/upgrade-node';
import { approveUpdate, type Progress, progressQuery, resolveUpdate, TASK_QUEUE } from '../../src/shared/definitions';
import { planUpgradeWorkflow, upgradeClusterWorkflow } from '../../src/workflows';
import type { UpgradeClusterInput, UpgradeClusterResult } from '../../src/workflows/upgrade-cluster';
import type { UpgradePlan } from '../../src/workflows/plan-upgrade';
import { onTestServer, testWorker } from '../helpers/temporal';
import { type Call, fakeActivities, type FakeOptions, nodeAt, spec } from './fakes';

const upgradeSpec = (to: string, through: string[] = [], workers = 2): ClusterSpec => ({
  ...spec([], workers),
  kubernetesVersion: to,
  upgrade: { binaries: '/srv/kubernetes', through, workerBatch: 2 },
});

const fleetAt = (v: string, workers = 2): Record<string, NodeVersions> => ({
  cp1: nodeAt(v, true),
  cp2: nodeAt(v, true),
  cp3: nodeAt(v, true),
  ...Object.fromEntries(Array.from({ length: workers }, (_, i) => [`w${i + 1}`, nodeAt(v, false)])),
});

describe('upgradeClusterWorkflow on the time-skipping test server', () => {
  const server = onTestServer();
  let n = 0;

  /** Runs an upgrade, approving its gate; `onPark` answers each park (host, options) with an action. */
  async function upgrade(
    calls: Call[],
    versions: Record<string, NodeVersions>,
    s: ClusterSpec,
    o: {
      behave?: FakeOptions['behave'];
      onPark?: (host: string, options: string[]) => string;
      approvedPlan?: UpgradeClusterInput['approvedPlan'];
    } = {},
  ): Promise<{ result: UpgradeClusterResult; gates: number; changedAtGate: number; parks: string[][] }> {
    const worker = await testWorker(
      server.env,
      fakeActivities(calls, { versions, ...(o.behave ? { behave: o.behave } : {}) }),
    );
    return worker.runUntil(async () => {
      const started = await server.env.client.workflow.start(upgradeClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `upgrade-test-${++n}`,
        args: [{ spec: s, ...(o.approvedPlan ? { approvedPlan: o.approvedPlan } : {}) }],
      });
      // By workflow ID alone, so it follows the run a hop continued as.
      const h = server.env.client.workflow.getHandle<typeof upgradeClusterWorkflow>(started.workflowId);
      let gates = 0;
      let changedAtGate = -1;
      const parks: string[][] = [];
      // Polled, not awaited: awaiting the result lets the time-skipping server run the clock forward,
      // and a parked run would wait forever.
      for (let i = 0; ; i++) {
        const status = (await h.describe()).status.name;
        if (status !== 'RUNNING') break;
        if (i > 1200) throw new Error(`the run is still ${status} after a minute`);
        const p: Progress | undefined = await h.query(progressQuery).catch(() => undefined);
        if (p?.awaitingApproval === 'upgrade') {
          gates++;
          changedAtGate = calls.filter((c) => c.name.startsWith('upgrade') || c.name === 'backupCluster').length;
          await h.executeUpdate(approveUpdate, { args: [{ phase: 'upgrade', approver: 'olga' }] });
        }
        for (const park of p?.parked ?? []) {
          parks.push([park.host, ...park.options]);
          const action = o.onPark?.(park.host, park.options) ?? 'abort';
          await h.executeUpdate(resolveUpdate, {
            args: [{ host: park.host, action: action as 'retry', approver: 'olga' }],
          });
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return { result: await h.result(), gates, changedAtGate, parks };
    });
  }
  const order = (calls: Call[], name: string) =>
    calls.filter((c) => c.name === name).map((c) => `${c.host}@${(c.input as { version: string }).version}`);

  it('asks once; backs up, then cp1, cp2, cp3 one at a time, then the workers; two hops, one run each', async () => {
    const calls: Call[] = [];
    const versions = fleetAt('v1.30.6');
    const { result, gates, changedAtGate } = await upgrade(calls, versions, upgradeSpec('v1.32.2', ['v1.31.5']));
    assert.equal(gates, 1, 'one approval covers both hops');
    assert.equal(changedAtGate, 0, 'nothing changed before the approval');
    assert.equal(result.outcome, 'completed');
    assert.equal(result.hop, 'v1.32.2', 'the last run made the last hop');
    assert.equal(result.from, 'v1.31.5');
    assert.deepEqual(order(calls, 'backupCluster'), ['cp1@v1.31.5', 'cp1@v1.32.2']);
    const hop = (v: string) =>
      order(calls, 'upgradeKubeadm')
        .filter((x) => x.endsWith(v))
        .map((x) => x.split('@')[0]);
    assert.deepEqual(hop('v1.31.5').slice(0, 3), ['cp1', 'cp2', 'cp3']);
    assert.deepEqual(new Set(hop('v1.31.5').slice(3)), new Set(['w1', 'w2']));
    assert.deepEqual(hop('v1.32.2').slice(0, 3), ['cp1', 'cp2', 'cp3']);
    // Within a hop, each node's kubelet comes after its kubeadm, and the backup before everything.
    const names = calls.map((c) => `${c.name}:${c.host}`);
    assert.ok(names.indexOf('backupCluster:cp1') < names.indexOf('upgradeKubeadm:cp1'));
    assert.ok(names.indexOf('upgradeKubeadm:cp1') < names.indexOf('upgradeKubelet:cp1'));
    assert.ok(names.indexOf('upgradeKubelet:cp1') < names.indexOf('upgradeKubeadm:cp2'));
    for (const node of Object.keys(versions)) assert.equal(versions[node].kubelet, 'v1.32.2', `${node}'s kubelet`);
    assert.equal(calls.filter((c) => c.name === 'upgradeKubeadm').length, 10, 'each node once per hop');
  });

  it('refuses, naming upgrade.through, when a minor on the way has no release given; nothing changes', async () => {
    const calls: Call[] = [];
    await assert.rejects(
      upgrade(calls, fleetAt('v1.30.6'), upgradeSpec('v1.32.2')),
      (e: unknown) =>
        e instanceof WorkflowFailedError &&
        /upgrade\.through: the upgrade from v1\.30\.6 to v1\.32\.2 passes through v1\.31/.test(
          String(e.cause?.message),
        ),
    );
    assert.equal(calls.filter((c) => c.name !== 'readNodeVersions').length, 0);
  });

  it('refuses a spec that does not say where the binaries come from, before any activity', async () => {
    const calls: Call[] = [];
    const { upgrade: _, ...noSource } = upgradeSpec('v1.31.5');
    await assert.rejects(
      upgrade(calls, fleetAt('v1.30.6'), noSource),
      (e: unknown) =>
        e instanceof WorkflowFailedError &&
        /upgrade: the cluster file does not say how the new kubeadm, kubelet and kubectl reach the nodes/.test(
          String(e.cause?.message),
        ),
    );
    assert.deepEqual(calls, []);
  });

  it('has nothing to do, and asks nothing, when the cluster is at the version', async () => {
    const calls: Call[] = [];
    const { result, gates } = await upgrade(calls, fleetAt('v1.31.4'), upgradeSpec('v1.31.4'));
    assert.equal(gates, 0);
    assert.equal(result.nothingToDo, true);
    assert.deepEqual(
      calls.map((c) => c.name),
      Array(5).fill('readNodeVersions'),
    );
  });

  it('parks a drain a PodDisruptionBudget stopped, offering --disable-eviction; the kubeadm part does not run again', async () => {
    const calls: Call[] = [];
    let blocked = false;
    const { result, parks } = await upgrade(calls, fleetAt('v1.30.6'), upgradeSpec('v1.31.5'), {
      behave: (name, host, call) => {
        if (
          name === 'upgradeKubelet' &&
          host === 'w1' &&
          !(call.input as { disableEviction?: unknown }).disableEviction
        ) {
          blocked = true;
          throw ApplicationFailure.create({
            type: 'DrainBlocked',
            nonRetryable: true,
            message: 'w1: kubectl drain stopped: PodDisruptionBudget default/web allows no disruption of default/web-1',
          });
        }
      },
      onPark: () => 'disable-eviction',
    });
    assert.ok(blocked);
    assert.deepEqual(parks, [['w1', 'retry', 'disable-eviction', 'skip', 'abort']]);
    assert.equal(result.outcome, 'completed');
    const w1 = calls.filter((c) => c.host === 'w1');
    assert.deepEqual(
      w1.map((c) => c.name),
      ['readNodeVersions', 'upgradeKubeadm', 'upgradeKubelet', 'upgradeKubelet'],
    );
    assert.deepEqual((w1[3].input as { disableEviction?: unknown }).disableEviction, { approvedBy: 'olga' });
    assert.ok(
      result.decisions.some((d) => d.host === 'w1' && d.verdict === 'disable-eviction' && d.approver === 'olga'),
    );
  });

  it('a PodDisruptionBudget park decided by skip leaves that worker out; by retry, the drain runs again as it was', async () => {
    const calls: Call[] = [];
    const blockedOnce = new Set<string>();
    const { result, parks } = await upgrade(calls, fleetAt('v1.30.6'), upgradeSpec('v1.31.5'), {
      behave: (name, host) => {
        if (name === 'upgradeKubelet' && host?.startsWith('w') && !blockedOnce.has(host)) {
          blockedOnce.add(host);
          throw ApplicationFailure.create({ type: 'DrainBlocked', nonRetryable: true, message: `${host}: blocked` });
        }
      },
      onPark: (host) => (host === 'w1' ? 'skip' : 'retry'),
    });
    assert.deepEqual(parks.map((p) => p[0]).sort(), ['w1', 'w2']);
    assert.equal(result.outcome, 'completed-with-skipped');
    assert.deepEqual(result.skipped, ['w1']);
    const w2 = calls.filter((c) => c.host === 'w2' && c.name === 'upgradeKubelet');
    assert.equal(w2.length, 2);
    assert.equal((w2[1].input as { disableEviction?: unknown }).disableEviction, undefined, 'a retry still evicts');
    assert.ok(!result.upgraded.includes('w1') && result.upgraded.includes('w2'));
  });

  async function planOf(calls: Call[], versions: Record<string, NodeVersions>, s: ClusterSpec): Promise<UpgradePlan> {
    const worker = await testWorker(server.env, fakeActivities(calls, { versions }));
    return worker.runUntil(
      server.env.client.workflow.execute(planUpgradeWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `upgrade-plan-test-${++n}`,
        args: [{ spec: s }],
      }),
    );
  }

  it("plans read-only: the hops, each node's steps, the backup, the gate and a fingerprint", async () => {
    const calls: Call[] = [];
    const p = await planOf(calls, fleetAt('v1.30.6'), upgradeSpec('v1.32.2', ['v1.31.5']));
    assert.deepEqual(
      calls.map((c) => c.name),
      Array(5).fill('readNodeVersions'),
      'only reads',
    );
    assert.deepEqual(p.upgrade.hops, ['v1.31.5', 'v1.32.2']);
    assert.equal(p.upgrade.from, 'v1.30.6');
    assert.deepEqual(p.gates, ['upgrade']);
    const phase = (name: string) => p.phases.find((x) => x.name === name)!;
    assert.match(
      phase('backupCluster').actions![0].action,
      /etcd-snapshot\.db .*in \/var\/lib\/kubeadm-ha\/backups\/v1\.31\.5/,
    );
    assert.match(
      phase('upgradeFirstControlPlane').actions![0].action,
      /^install kubeadm v1\.31\.5, kubeadm upgrade apply v1\.31\.5, drain, /,
    );
    assert.match(
      phase('upgradeControlPlanes').actions![0].action,
      /; etcd: 3 members, quorum 2; 2 stay up while its member restarts \(margin 0\)$/,
    );
    assert.doesNotMatch(phase('upgradeWorkers').actions![0].action, /etcd/);
    assert.deepEqual(
      phase('upgradeWorkers').actions!.map((a) => a.host),
      ['w1', 'w2'],
    );
    assert.match(p.fingerprint, /^[0-9a-f]{64}$/);
    assert.match(
      p.upgrade.kubeadmPlan!,
      /^kubeadm upgrade plan v1\.31\.5 runs on cp1 once kubeadm v1\.31\.5 is installed there/,
    );
    // With the hop's kubeadm already on cp1, kubeadm's own plan is asked, read-only.
    const installed = fleetAt('v1.30.6');
    installed.cp1.kubeadm = 'v1.31.5';
    const asked: Call[] = [];
    const withKubeadm = await planOf(asked, installed, upgradeSpec('v1.32.2', ['v1.31.5']));
    assert.equal(withKubeadm.upgrade.kubeadmPlan, 'kubeadm upgrade plan: kube-apiserver v1.30.6 -> v1.31.5');
    assert.deepEqual(
      asked.filter((c) => c.name === 'readKubeadmUpgradePlan').map((c) => c.host),
      ['cp1'],
    );
    assert.equal(
      (await planOf([], fleetAt('v1.30.6'), upgradeSpec('v1.32.2', ['v1.31.5']))).fingerprint,
      p.fingerprint,
    );
  });

  it('runs an approved plan without the gate; refuses, naming the drift, when a node changed since', async () => {
    const plan = await planOf([], fleetAt('v1.30.6'), upgradeSpec('v1.31.5'));
    const approvedPlan = { fingerprint: plan.fingerprint, approver: 'olga', versions: plan.upgrade.versions };

    const drifted = fleetAt('v1.30.6');
    drifted.w2.kubelet = 'v1.31.5';
    const calls: Call[] = [];
    await assert.rejects(
      upgrade(calls, drifted, upgradeSpec('v1.31.5'), { approvedPlan }),
      (e: unknown) =>
        e instanceof WorkflowFailedError &&
        /approved by olga found it; nothing was changed\. Changed: w2: kubelet v1\.30\.6 -> v1\.31\.5\. Make a new plan/.test(
          String(e.cause?.message),
        ),
    );
    assert.equal(calls.filter((c) => c.name !== 'readNodeVersions').length, 0, 'nothing changed');

    const ok: Call[] = [];
    const { result, gates } = await upgrade(ok, fleetAt('v1.30.6'), upgradeSpec('v1.31.5'), { approvedPlan });
    assert.equal(gates, 0, 'the approved plan is the approval');
    assert.equal(result.outcome, 'completed');
    assert.equal(ok.filter((c) => c.name === 'upgradeKubelet').length, 5);
  });
});
