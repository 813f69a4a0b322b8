// What the CLI's run verbs do, against a Temporal client: start, plan, watch, list, cancel. Argument
// parsing lives in cli.ts; decisions in decisions.ts; status in status.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { readClusterFile } from '../config/cluster-file';
import {
  approveUpdate,
  ClusterNameKey,
  PhaseKey,
  Progress,
  StatusKey,
  TASK_QUEUE,
  workflowIdFor,
} from '../shared/definitions';
import type { ClusterPlan } from '../shared/plan';
import { haClusterWorkflow, planClusterWorkflow, resetClusterWorkflow, upgradeClusterWorkflow } from '../workflows';
import type { HaClusterInput, HaClusterResult } from '../workflows/ha-cluster';
import type { ResetClusterInput, ResetClusterResult } from '../workflows/reset-cluster';
import type { UpgradeClusterInput, UpgradeClusterResult } from '../workflows/upgrade-cluster';
import { ensureSearchAttributes, TemporalTarget, workflowUrl } from './connection';
import { update } from './decisions';
import { progressEvents } from './format';
import { formatPlan } from './format-plan';
import { HostSummary } from './host-counts';
import { EXIT_STALLED, failureLine, STALL_LIMIT_MS, StallWatch } from './run-end';
import { readProgress, workerPolling } from './status';
import { table } from './table';
import { readApprovedPlan } from './upgrade-plan';
import { UsageError } from './usage-error';

export type Operation = 'build' | 'reset' | 'upgrade';

export interface StartOptions {
  clusterFile: string;
  watch: boolean;
  autoApprove?: string;
  /** Stop following with EXIT_PARKED once a step parks (the run stays parked for a decision). */
  exitOnPark?: boolean;
  /** `upgrade`: a plan saved by `upgrade --plan --save`, approved by `approver`: no gate, and the run stops on drift. */
  approvedPlan?: { file: string; approver: string };
  /** `reset`: take the cluster down (kubeadm-ha reset); `upgrade`: to the file's kubernetesVersion (kubeadm-ha upgrade). */
  operation?: Operation;
}

/** The exit code of `start --exit-on-park` when a step parked: the run waits for an operator. */
export const EXIT_PARKED = 5;

export async function start(
  client: Client,
  t: TemporalTarget,
  o: StartOptions,
  print: (s: string) => void,
): Promise<number> {
  const { spec, warnings } = readClusterFile(o.clusterFile); // throws ClusterFileError before anything starts
  for (const w of warnings) print(`warning: ${w}`);
  await ensureSearchAttributes(client.connection, t.namespace);
  // One workflow ID per cluster for builds and resets alike: never two runs on one cluster at once.
  const workflowId = workflowIdFor(spec.name);
  const options = {
    taskQueue: TASK_QUEUE,
    workflowId,
    workflowIdConflictPolicy: 'FAIL' as const,
    typedSearchAttributes: [
      { key: ClusterNameKey, value: spec.name },
      { key: PhaseKey, value: 'starting' },
      { key: StatusKey, value: 'running' },
    ],
  };
  try {
    if (o.operation === 'upgrade') {
      if (!spec.upgrade)
        throw new UsageError(
          `${o.clusterFile}: upgrade: the file has no upgrade section; say how the new kubeadm, kubelet and kubectl reach ` +
            'the nodes (upgrade.binaries: a folder on the worker, or upgrade.packages: apt)',
        );
      const input: UpgradeClusterInput = {
        spec,
        ...(o.approvedPlan
          ? { approvedPlan: readApprovedPlan(o.approvedPlan.file, o.approvedPlan.approver, spec.name) }
          : {}),
      };
      await client.workflow.start(upgradeClusterWorkflow, {
        ...options,
        args: [input],
        staticSummary: `upgrade of cluster **${spec.name}** to Kubernetes ${spec.kubernetesVersion}, one minor at a time, once approved`,
      });
    } else if (o.operation === 'reset') {
      const input: ResetClusterInput = { spec };
      await client.workflow.start(resetClusterWorkflow, {
        ...options,
        args: [input],
        staticSummary: `reset of cluster **${spec.name}**: kubeadm reset -f on each of its hosts that holds anything of kubeadm, once approved`,
      });
    } else {
      const input: HaClusterInput = { spec };
      await client.workflow.start(haClusterWorkflow, {
        ...options,
        args: [input],
        staticSummary:
          `kubeadm HA cluster **${spec.name}** (${spec.topology} etcd, Kubernetes ${spec.kubernetesVersion}): ` +
          `${spec.controlPlanes.length} control planes, ${spec.workers.length} workers`,
      });
    }
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UsageError(
        `a run for cluster "${spec.name}" is already running (workflow ${workflowId}); ` +
          `see it with: kubeadm-ha status ${spec.name}`,
      );
    }
    throw err;
  }
  print(`Started ${workflowId}\nWeb UI: ${workflowUrl(t, workflowId)}`);
  if (!o.watch) {
    print(`Follow it with: kubeadm-ha status ${spec.name}`);
    return 0;
  }
  return watch(client, t, spec.name, print, o.autoApprove, o.exitOnPark);
}

/**
 * Inspects the hosts read-only in a short workflow of its own and prints what a start would do.
 * A workflow, not a query of a build run: it needs no run in flight, uses the same activities (SSH
 * from the worker, which holds the key) and the same plan functions, and leaves its own history.
 */
export async function plan(client: Client, file: string, json: boolean, print: (s: string) => void): Promise<number> {
  const { spec, warnings } = readClusterFile(file);
  for (const w of warnings) print(`warning: ${w}`);
  if (!(await workerPolling(client)))
    throw new UsageError(`no worker is polling task queue "${TASK_QUEUE}"; start one with npm run worker`);
  const handle = await client.workflow.start(planClusterWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: `${workflowIdFor(spec.name)}-plan-${Date.now()}`,
    args: [{ spec }],
    workflowExecutionTimeout: '15m',
    staticSummary: `kubeadm-ha plan for cluster **${spec.name}** (read-only)`,
  });
  const result: ClusterPlan = await handle.result();
  print(json ? JSON.stringify({ workflowId: handle.workflowId, ...result }, null, 2) : formatPlan(result));
  return 0;
}

/** Prints progress as it changes until the run ends; approves gates itself when autoApprove names an approver. */
export async function watch(
  client: Client,
  t: TemporalTarget,
  cluster: string,
  print: (s: string) => void,
  autoApprove?: string,
  exitOnPark?: boolean,
  stallLimitMs = STALL_LIMIT_MS,
): Promise<number> {
  const handle = client.workflow.getHandle<typeof haClusterWorkflow>(workflowIdFor(cluster));
  let prev: Progress | undefined;
  let warned = false;
  // Large clusters: one summary line per change of counts, at most every 5 s, instead of a line per host.
  const summary = new HostSummary(5000);
  const stall = new StallWatch(client, stallLimitMs);
  for (;;) {
    const { desc, progress: p, note } = await readProgress(client, handle);
    if (note && !warned) print(note);
    warned = note !== undefined;
    if (p) {
      for (const e of progressEvents(prev, p, { summary, now: Date.now() })) print(e);
      if (autoApprove && p.awaitingApproval) {
        await update(handle, approveUpdate, {
          phase: p.awaitingApproval,
          approver: autoApprove,
          comment: 'approved automatically (--auto-approve)',
        }).catch((err) => {
          if (!(err instanceof WorkflowUpdateFailedError)) throw err;
        });
      }
      prev = p;
      if (exitOnPark && p.parked?.length) {
        // The park's diagnosis (every attempt's error, what a retry does, the commands) was printed above.
        print(
          `Stopped following: ${p.parked.map((x) => `${x.step} on ${x.host}`).join(', ')} parked and waits for an operator ` +
            `(kubeadm-ha status ${cluster}; Web UI ${workflowUrl(t, handle.workflowId)})`,
        );
        return EXIT_PARKED;
      }
    }
    if (desc.status.name !== 'RUNNING') {
      print(`Run ${desc.status.name.toLowerCase()}: ${workflowUrl(t, handle.workflowId)}`);
      if (desc.status.name === 'COMPLETED') return outcomeCode(await handle.result(), print);
      if (desc.status.name === 'FAILED') print(await failureLine(handle, p));
      return 1;
    }
    if (exitOnPark) {
      // Nobody is there to start a worker or fix the workflow code: say why and stop following.
      const stalled = await stall.check(handle, desc, note);
      if (stalled) {
        print(`Stopped following: the run cannot go on by itself: ${stalled} (${workflowUrl(t, handle.workflowId)})`);
        return EXIT_STALLED;
      }
    }
    await sleep(1000);
  }
}

/** Exit code and last words for a run that completed: built (or reset), with skipped workers, rejected or aborted. */
function outcomeCode(
  r: HaClusterResult | ResetClusterResult | UpgradeClusterResult,
  print: (s: string) => void,
): number {
  if (r.outcome === 'rejected') {
    print(
      `Rejected at ${r.rejection?.phase} by ${r.rejection?.approver}${r.rejection?.comment ? `: ${r.rejection.comment}` : ''}`,
    );
    return 3;
  }
  if (r.outcome === 'aborted') {
    print(
      `Aborted by ${r.abort?.approver} at ${r.abort?.step} on ${r.abort?.host}${r.abort?.comment ? `: ${r.abort.comment}` : ''}; the hosts were left as they are`,
    );
    return 4;
  }
  if (r.outcome === 'completed-with-skipped') print(`Completed with skipped hosts: ${r.skipped.join(', ')}`);
  if ('upgraded' in r) {
    print(
      r.nothingToDo
        ? `Nothing to do: the cluster is at ${r.from ?? "the file's version"}`
        : `Upgraded ${r.upgraded.join(', ') || 'no node'} to ${r.hop}${
            r.backup
              ? `; backup in ${r.backup.dir}: ${Object.entries(r.backup.sha256)
                  .map(([f, d]) => `${f} sha256:${d}`)
                  .join(', ')}`
              : ''
          }`,
    );
    return 0;
  }
  if ('reset' in r) {
    print(
      r.nothingToDo
        ? 'Nothing to do: no host holds anything of kubeadm'
        : `Reset ${r.reset.join(', ')}: they hold nothing of kubeadm now, and a new build takes them as clean`,
    );
    return 0;
  }
  if (r.nothingToDo)
    print('Nothing to do: the hosts and the cluster already match the cluster file; no host was changed');
  print(
    table([
      ['NODE', 'READY', 'ROLES'],
      ...r.nodes.map((n) => [n.name, String(n.ready), n.roles.join(',') || '<none>']),
    ]),
  );
  return 0;
}

export async function list(client: Client, json: boolean, print: (s: string) => void): Promise<number> {
  const rows: { cluster: string; workflowId: string; status: string; phase: string; started: string }[] = [];
  const types = [haClusterWorkflow, resetClusterWorkflow, upgradeClusterWorkflow]
    .map((w) => `WorkflowType = '${w.name}'`)
    .join(' OR ');
  for await (const wf of client.workflow.list({ query: types })) {
    rows.push({
      cluster: String(wf.typedSearchAttributes.get(ClusterNameKey) ?? ''),
      workflowId: wf.workflowId,
      status: String(wf.typedSearchAttributes.get(StatusKey) ?? wf.status.name),
      phase: String(wf.typedSearchAttributes.get(PhaseKey) ?? ''),
      started: wf.startTime.toISOString(),
    });
  }
  if (json) print(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) print('No runs.');
  else
    print(
      table([
        ['CLUSTER', 'STATUS', 'PHASE', 'STARTED', 'WORKFLOW'],
        ...rows.map((r) => [r.cluster, r.status, r.phase, r.started, r.workflowId]),
      ]),
    );
  return 0;
}

export async function cancel(client: Client, cluster: string, print: (s: string) => void): Promise<number> {
  const handle = client.workflow.getHandle(workflowIdFor(cluster));
  await handle.cancel();
  print(`Cancellation requested for ${handle.workflowId}; running commands are stopped on the hosts.`);
  return 0;
}
