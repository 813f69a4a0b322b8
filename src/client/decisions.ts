// The operator's decisions, sent as updates: approve or reject a gate, retry, skip or abort a parked step.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Gate } from '../config/enums';
import { approveUpdate, ParkVerdict, rejectUpdate, resolveUpdate, workflowIdFor } from '../shared/definitions';
import { UsageError } from './usage-error';

/**
 * Sends an update. Right after a worker restart the server may hand it to the old worker's queue and
 * answer "wasn't processed by worker": that is not a refusal, so it is sent again for up to 30 s.
 */
export async function update<Ret, Arg>(
  handle: WorkflowHandle,
  def: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
): Promise<Ret> {
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
  const gate = phase as Gate; // cli.ts checked it is one
  const d = await refusalAsUsage(
    verdict === 'approve'
      ? update(handle, approveUpdate, { phase: gate, approver, ...(text ? { comment: text } : {}) })
      : update(handle, rejectUpdate, { phase: gate, approver, ...(text ? { reason: text } : {}) }),
  );
  print(`${d.phase} ${d.verdict} by ${d.approver} at ${d.at}`);
  return 0;
}
