// A run's progress, read whatever state the run and its worker are in, and `status` printing it.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { PhaseKey, Progress, PROGRESS_MEMO, progressQuery, TASK_QUEUE, workflowIdFor } from '../shared/definitions';
import { formatProgress } from './format';
import { manyHosts } from './host-counts';
import { FAN_OUT_PHASES, type HistoryMark, type PhaseRate, rateFromHistory } from './rate';

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
export async function workerPolling(client: Client): Promise<boolean> {
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
  // A run with waves finishes its hosts in the waves' histories, not its own: no rate from it.
  const rate =
    p && desc.status.name === 'RUNNING' && manyHosts(p) && !allHosts && !p.waves?.length
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
