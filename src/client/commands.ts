// What each CLI verb does, against a Temporal client. Argument parsing lives in cli.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { loadClusterFile } from '../config/cluster-file';
import type { GatedPhase } from '../config/types';
import {
  approveUpdate, ClusterNameKey, PhaseKey, Progress, progressQuery, rejectUpdate, TASK_QUEUE, workflowIdFor,
} from '../shared/definitions';
import type { HaClusterInput, HaClusterResult } from '../workflows/ha-cluster';
import { ensureSearchAttributes, TemporalTarget, workflowUrl } from './connection';
import { formatProgress, progressEvents, table } from './format';

export class UsageError extends Error {}

export interface StartOptions {
  clusterFile: string;
  watch: boolean;
  autoApprove?: string;
}

export async function start(client: Client, t: TemporalTarget, o: StartOptions, print: (s: string) => void): Promise<number> {
  const spec = loadClusterFile(o.clusterFile); // throws ClusterFileError before anything starts
  await ensureSearchAttributes(client.connection, t.namespace);
  const workflowId = workflowIdFor(spec.name);
  const input: HaClusterInput = { spec };
  try {
    await client.workflow.start('haClusterWorkflow', {
      taskQueue: TASK_QUEUE, workflowId, args: [input],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [{ key: ClusterNameKey, value: spec.name }, { key: PhaseKey, value: 'starting' }],
      staticSummary: `kubeadm HA cluster **${spec.name}** (${spec.topology} etcd, Kubernetes ${spec.kubernetesVersion}): ` +
        `${spec.controlPlanes.length} control planes, ${spec.workers.length} workers`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UsageError(`a run for cluster "${spec.name}" is already running (workflow ${workflowId}); ` +
        `see it with: kubeadm-ha status ${spec.name}`);
    }
    throw err;
  }
  print(`Started ${workflowId}\nWeb UI: ${workflowUrl(t, workflowId)}`);
  if (!o.watch) {
    print(`Follow it with: kubeadm-ha status ${spec.name}`);
    return 0;
  }
  return watch(client, t, spec.name, print, o.autoApprove);
}

/** Prints progress as it changes until the run ends; approves gates itself when autoApprove names an approver. */
export async function watch(client: Client, t: TemporalTarget, cluster: string, print: (s: string) => void, autoApprove?: string): Promise<number> {
  const handle = client.workflow.getHandle(workflowIdFor(cluster));
  let prev: Progress | undefined;
  for (;;) {
    const desc = await handle.describe();
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p) {
      for (const e of progressEvents(prev, p)) print(e);
      if (autoApprove && p.awaitingApproval) {
        await handle.executeUpdate(approveUpdate, { args: [{ phase: p.awaitingApproval, approver: autoApprove, comment: 'approved automatically (--auto-approve)' }] })
          .catch((err) => { if (!(err instanceof WorkflowUpdateFailedError)) throw err; });
      }
      prev = p;
    }
    if (desc.status.name !== 'RUNNING') {
      print(`Run ${desc.status.name.toLowerCase()}: ${workflowUrl(t, handle.workflowId)}`);
      if (desc.status.name === 'COMPLETED') {
        const r = (await handle.result()) as HaClusterResult;
        if (r.outcome === 'rejected') {
          print(`Rejected at ${r.rejection?.phase} by ${r.rejection?.approver}${r.rejection?.comment ? `: ${r.rejection.comment}` : ''}`);
          return 3;
        }
        print(table([['NODE', 'READY', 'ROLES'], ...r.nodes.map((n) => [n.name, String(n.ready), n.roles.join(',') || '<none>'])]));
        return 0;
      }
      return 1;
    }
    await sleep(1000);
  }
}

export async function decide(client: Client, cluster: string, phase: string, verdict: 'approve' | 'reject', approver: string, text: string | undefined, print: (s: string) => void): Promise<number> {
  const handle = client.workflow.getHandle(workflowIdFor(cluster));
  try {
    const d = verdict === 'approve'
      ? await handle.executeUpdate(approveUpdate, { args: [{ phase: phase as GatedPhase, approver, ...(text ? { comment: text } : {}) }] })
      : await handle.executeUpdate(rejectUpdate, { args: [{ phase: phase as GatedPhase, approver, ...(text ? { reason: text } : {}) }] });
    print(`${d.phase} ${d.verdict} by ${d.approver} at ${d.at}`);
    return 0;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new UsageError(`refused: ${err.cause?.message ?? err.message}`);
    throw err;
  }
}

export async function status(client: Client, cluster: string, json: boolean, print: (s: string) => void): Promise<number> {
  const handle = client.workflow.getHandle(workflowIdFor(cluster));
  const desc = await handle.describe();
  const p = await handle.query(progressQuery);
  print(json ? JSON.stringify({ workflowId: handle.workflowId, runId: desc.runId, workflowStatus: desc.status.name, ...p }, null, 2)
    : formatProgress(p, desc.status.name, handle.workflowId));
  return 0;
}

export async function list(client: Client, json: boolean, print: (s: string) => void): Promise<number> {
  const rows: { cluster: string; workflowId: string; status: string; phase: string; started: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'haClusterWorkflow'` })) {
    rows.push({
      cluster: String(wf.typedSearchAttributes.get(ClusterNameKey) ?? ''),
      workflowId: wf.workflowId,
      status: wf.status.name,
      phase: String(wf.typedSearchAttributes.get(PhaseKey) ?? ''),
      started: wf.startTime.toISOString(),
    });
  }
  if (json) print(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) print('No runs.');
  else print(table([['CLUSTER', 'STATUS', 'PHASE', 'STARTED', 'WORKFLOW'], ...rows.map((r) => [r.cluster, r.status, r.phase, r.started, r.workflowId])]));
  return 0;
}

export async function cancel(client: Client, cluster: string, print: (s: string) => void): Promise<number> {
  const handle = client.workflow.getHandle(workflowIdFor(cluster));
  await handle.cancel();
  print(`Cancellation requested for ${handle.workflowId}; running commands are stopped on the hosts.`);
  return 0;
}
