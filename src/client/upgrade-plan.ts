// `kubeadm-ha upgrade --plan` and the plan file `--approved-plan` reads back: the upgrade's plan is a
// short read-only workflow of its own, like `plan`, and an approved plan travels in the run's input.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { readClusterFile } from '../config/cluster-file';
import { TASK_QUEUE, workflowIdFor } from '../shared/definitions';
import { planUpgradeWorkflow } from '../workflows';
import type { UpgradePlan } from '../workflows/plan-upgrade';
import type { ApprovedPlan } from '../workflows/upgrade/state';
import { formatPlan } from './format-plan';
import { workerPolling } from './status';
import { UsageError } from './usage-error';

/** `upgrade --plan`: the upgrade's plan, from the nodes' versions, in a short read-only workflow; `save` writes it for --approved-plan. */
export async function upgradePlan(
  client: Client,
  file: string,
  o: { json: boolean; save?: string },
  print: (s: string) => void,
): Promise<number> {
  const { spec, warnings } = readClusterFile(file);
  for (const w of warnings) print(`warning: ${w}`);
  if (!(await workerPolling(client)))
    throw new UsageError(`no worker is polling task queue "${TASK_QUEUE}"; start one with npm run worker`);
  const handle = await client.workflow.start(planUpgradeWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: `${workflowIdFor(spec.name)}-upgrade-plan-${Date.now()}`,
    args: [{ spec }],
    workflowExecutionTimeout: '15m',
    staticSummary: `kubeadm-ha upgrade --plan for cluster **${spec.name}** (read-only)`,
  });
  const result: UpgradePlan = await handle.result();
  print(json(o.json, handle.workflowId, result));
  if (o.save) {
    writeFileSync(o.save, JSON.stringify(result, null, 2) + '\n', { mode: 0o644 });
    print(
      `Saved to ${o.save}. Approve this plan with: kubeadm-ha upgrade ${file} --approved-plan ${o.save} --as <your name>`,
    );
  }
  return result.upgrade.problem ? 1 : 0;
}

const json = (asJson: boolean, workflowId: string, p: UpgradePlan) =>
  asJson ? JSON.stringify({ workflowId, ...p }, null, 2) : formatPlan(p);

/** A plan `upgrade --plan --save` wrote, for this cluster. */
export function readApprovedPlan(file: string, approver: string, cluster: string): ApprovedPlan {
  let p: Partial<UpgradePlan>;
  try {
    p = JSON.parse(readFileSync(file, 'utf8')) as Partial<UpgradePlan>;
  } catch (e) {
    throw new UsageError(`--approved-plan ${file}: ${(e as Error).message}`);
  }
  if (typeof p.fingerprint !== 'string' || !p.upgrade?.versions)
    throw new UsageError(`--approved-plan ${file}: not a plan saved by kubeadm-ha upgrade --plan --save`);
  if (p.cluster !== cluster)
    throw new UsageError(`--approved-plan ${file}: it is the plan of cluster "${p.cluster}", not "${cluster}"`);
  if (!approver.trim()) throw new UsageError('--as NAME: who approves the plan');
  return { fingerprint: p.fingerprint, approver: approver.trim(), versions: p.upgrade.versions };
}
