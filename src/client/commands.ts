// What each CLI verb does, against a Temporal client. Argument parsing lives in cli.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowHandle,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { UpdateDefinition } from '@temporalio/common';
import { readClusterFile } from '../config/cluster-file';
import type { GatedPhase } from '../config/enums';
import {
  approveUpdate,
  ClusterNameKey,
  ParkVerdict,
  PhaseKey,
  Progress,
  PROGRESS_MEMO,
  progressQuery,
  rejectUpdate,
  resolveUpdate,
  StatusKey,
  TASK_QUEUE,
  workflowIdFor,
} from '../shared/definitions';
import type { ClusterPlan } from '../shared/plan';
import { haClusterWorkflow, planClusterWorkflow } from '../workflows';
import type { HaClusterInput, HaClusterResult } from '../workflows/ha-cluster';
import { ensureSearchAttributes, TemporalTarget, workflowUrl } from './connection';
import { formatPlan } from './format-plan';
import { formatProgress, progressEvents } from './format';
import { HostSummary, manyHosts } from './host-counts';
import { FAN_OUT_PHASES, type HistoryMark, type PhaseRate, rateFromHistory } from './rate';
import { table } from './table';

export class UsageError extends Error {}

export interface StartOptions {
  clusterFile: string;
  watch: boolean;
  autoApprove?: string;
  /** Stop following with EXIT_PARKED once a step parks (the run stays parked for a decision). */
  exitOnPark?: boolean;
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
  const workflowId = workflowIdFor(spec.name);
  const input: HaClusterInput = { spec };
  try {
    await client.workflow.start(haClusterWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: ClusterNameKey, value: spec.name },
        { key: PhaseKey, value: 'starting' },
        { key: StatusKey, value: 'running' },
      ],
      staticSummary:
        `kubeadm HA cluster **${spec.name}** (${spec.topology} etcd, Kubernetes ${spec.kubernetesVersion}): ` +
        `${spec.controlPlanes.length} control planes, ${spec.workers.length} workers`,
    });
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
): Promise<number> {
  const handle = client.workflow.getHandle<typeof haClusterWorkflow>(workflowIdFor(cluster));
  let prev: Progress | undefined;
  let warned = false;
  // Large clusters: one summary line per change of counts, at most every 5 s, instead of a line per host.
  const summary = new HostSummary(5000);
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
      return 1;
    }
    await sleep(1000);
  }
}

/**
 * Sends an update. Right after a worker restart the server may hand it to the old worker's queue and
 * answer "wasn't processed by worker": that is not a refusal, so it is sent again for up to 30 s.
 */
async function update<Ret, Arg>(handle: WorkflowHandle, def: UpdateDefinition<Ret, [Arg]>, arg: Arg): Promise<Ret> {
  for (let i = 0; ; i++) {
    try {
      return await handle.executeUpdate(def, { args: [arg] });
    } catch (err) {
      if (
        !(err instanceof WorkflowUpdateFailedError) ||
        !/wasn't processed by worker/.test(String(err.cause?.message)) ||
        i >= 30
      )
        throw err;
      await sleep(1000);
    }
  }
}

/** Exit code and last words for a run that completed: built, built with skipped workers, rejected or aborted. */
function outcomeCode(r: HaClusterResult, print: (s: string) => void): number {
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

const QUERY_DEADLINE_MS = 4000;

/**
 * A run's progress, whatever state it is in: a closed run from its memo (no worker needed), an open
 * one by query, or from its memo with a note at once when no worker polls the task queue.
 */
export async function readProgress(
  client: Client,
  handle: WorkflowHandle,
): Promise<{ desc: Awaited<ReturnType<WorkflowHandle['describe']>>; progress?: Progress; note?: string }> {
  const desc = await handle.describe();
  const memo = desc.memo?.[PROGRESS_MEMO] as Progress | undefined;
  if (desc.status.name !== 'RUNNING') return { desc, progress: memo };
  const noWorker = `no worker is polling task queue "${TASK_QUEUE}"; the run waits for one: start it with npm run worker (showing the last recorded progress)`;
  if (!(await workerPolling(client))) return { desc, progress: memo, note: noWorker };
  try {
    // A live worker answers in milliseconds; the server lists a worker that just died for a minute more.
    return {
      desc,
      progress: await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery)),
    };
  } catch {
    return {
      desc,
      progress: memo,
      note: `${noWorker}; none answered the progress query in ${QUERY_DEADLINE_MS / 1000} s`,
    };
  }
}

/** A worker polled the workflow task queue within the last long-poll interval (about a minute). */
async function workerPolling(client: Client): Promise<boolean> {
  const r = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: TASK_QUEUE },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const recent = Date.now() - 75_000;
  return (r.pollers ?? []).some((p) => {
    const s = p.lastAccessTime?.seconds;
    return s !== undefined && s !== null && Number(s) * 1000 >= recent;
  });
}

export async function resolve(
  client: Client,
  cluster: string,
  host: string,
  action: ParkVerdict,
  approver: string,
  reason: string | undefined,
  print: (s: string) => void,
): Promise<number> {
  const handle = client.workflow.getHandle(workflowIdFor(cluster));
  const d = await refusalAsUsage(
    update(handle, resolveUpdate, { host, action, approver, ...(reason ? { reason } : {}) }),
  );
  print(`${d.step} on ${d.host}: ${d.verdict} by ${d.approver} at ${d.at}`);
  return 0;
}

/** A decision the workflow's validator refused becomes a UsageError with its reason. */
async function refusalAsUsage<T>(sent: Promise<T>): Promise<T> {
  try {
    return await sent;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new UsageError(`refused: ${err.cause?.message ?? err.message}`);
    throw err;
  }
}

export async function decide(
  client: Client,
  cluster: string,
  phase: string,
  verdict: 'approve' | 'reject',
  approver: string,
  text: string | undefined,
  print: (s: string) => void,
): Promise<number> {
  const handle = client.workflow.getHandle(workflowIdFor(cluster));
  const gate = phase as GatedPhase; // cli.ts checked it is one
  const d = await refusalAsUsage(
    verdict === 'approve'
      ? update(handle, approveUpdate, { phase: gate, approver, ...(text ? { comment: text } : {}) })
      : update(handle, rejectUpdate, { phase: gate, approver, ...(text ? { reason: text } : {}) }),
  );
  print(`${d.phase} ${d.verdict} by ${d.approver} at ${d.at}`);
  return 0;
}

export async function status(
  client: Client,
  cluster: string,
  json: boolean,
  print: (s: string) => void,
  allHosts = false,
): Promise<number> {
  const handle = client.workflow.getHandle(workflowIdFor(cluster));
  const { desc, progress: p, note } = await readProgress(client, handle);
  if (json) {
    print(
      JSON.stringify(
        {
          workflowId: handle.workflowId,
          runId: desc.runId,
          workflowStatus: desc.status.name,
          ...(note ? { note } : {}),
          ...p,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  if (note) print(`Note: ${note}`);
  const rate =
    p && desc.status.name === 'RUNNING' && manyHosts(p) && !allHosts
      ? await runningPhaseRate(handle, p).catch(() => undefined)
      : undefined;
  print(
    p
      ? formatProgress(p, desc.status.name, handle.workflowId, { allHosts, ...(rate ? { rate } : {}) })
      : `Run ${handle.workflowId} is ${desc.status.name}; it recorded no progress (started by an older kubeadm-ha, or terminated before its first phase)`,
  );
  return 0;
}

/**
 * The running fan-out phase's rate, from the history's own timestamps: the phase starts at the first
 * search-attribute update naming it (search attributes are plain, not encrypted), and each of its
 * hosts is done at the completion of its step's activity. Reads only event types and times.
 */
async function runningPhaseRate(handle: WorkflowHandle, p: Progress): Promise<PhaseRate | undefined> {
  const phase = p.phases.find((ph) => ph.state === 'running')?.name;
  if (!phase || !FAN_OUT_PHASES[phase]) return undefined;
  const history = await handle.fetchHistory();
  const marks: HistoryMark[] = [];
  const typeOf = new Map<string, string>();
  const at = (e: temporal.api.history.v1.IHistoryEvent) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  for (const e of history.events ?? []) {
    const sa = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[PhaseKey.name];
    if (sa?.data) {
      try {
        marks.push({ t: at(e), kind: 'phase', phase: JSON.parse(Buffer.from(sa.data).toString('utf8')) as string });
      } catch {
        /* not a keyword payload */
      }
    }
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) typeOf.set(String(e.eventId), s.activityType.name);
    const c = e.activityTaskCompletedEventAttributes;
    if (c) marks.push({ t: at(e), kind: 'completed', activityType: typeOf.get(String(c.scheduledEventId)) });
  }
  return rateFromHistory(phase, marks, p.counts.pending + p.counts.running, Date.now());
}

export async function list(client: Client, json: boolean, print: (s: string) => void): Promise<number> {
  const rows: { cluster: string; workflowId: string; status: string; phase: string; started: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${haClusterWorkflow.name}'` })) {
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
