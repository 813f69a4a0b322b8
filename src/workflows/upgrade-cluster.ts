// `kubeadm-ha upgrade`: brings a cluster to the cluster file's kubernetesVersion, one minor at a
// time, as kubeadm's "Upgrading kubeadm clusters" page does. Its own workflow on the shared engine,
// with the build's workflow ID, so an upgrade and a build of one cluster never run at once. A run
// does one hop and continues as new for the next, so each hop's history starts afresh; the
// approval of the plan carries over to the continued runs.
import { ApplicationFailure, continueAsNew } from '@temporalio/workflow';
import type { BackupResult } from '../activities/upgrade';
import type { ClusterSpec } from '../config/types';
import type { Decision } from '../shared/definitions';
import { activitiesFor, type RetryTuning } from './activities';
import { BuildCluster } from './build/cluster';
import { PhaseEngine, type RunSummary } from './engine/engine';
import { checkUpgradeInput } from './input-check';
import { upgradePhases } from './upgrade/phases';
import { type ApprovedPlan, missingSourceProblem, UpgradeState } from './upgrade/state';

export interface UpgradeClusterInput {
  spec: ClusterSpec;
  tuning?: { retry?: RetryTuning };
  /** Set by the run before, when it continued as new for the next hop: who approved the upgrade. */
  approvedBy?: string;
  /** A plan approved beforehand (kubeadm-ha upgrade --approved-plan): no gate, but the run stops if the cluster drifted from it. */
  approvedPlan?: ApprovedPlan;
}
export interface UpgradeClusterResult extends RunSummary {
  /** The hop this run made, and the cluster's version before it. */
  hop?: string;
  from?: string;
  /** Nodes upgraded by this run, in order. */
  upgraded: string[];
  backup?: Pick<BackupResult, 'dir' | 'sha256'>;
}

export async function upgradeClusterWorkflow(input: UpgradeClusterInput): Promise<UpgradeClusterResult> {
  checkUpgradeInput(input);
  const missing = missingSourceProblem(input.spec);
  if (missing) throw ApplicationFailure.create({ type: 'UpgradeRefused', nonRetryable: true, message: missing });
  const c = new BuildCluster(input.spec);
  const state = new UpgradeState(c, activitiesFor(input.tuning?.retry));
  // The first run of an upgrade started with an approved plan checks the cluster against it; a
  // continued run goes on under that approval.
  if (input.approvedPlan && !input.approvedBy) state.approvedPlan = input.approvedPlan;
  const preApproved = input.approvedBy ?? input.approvedPlan?.approver;
  const engine = new PhaseEngine({
    cluster: c.spec.name,
    hosts: c.progressHosts.filter((h) => h.role !== 'etcd'),
    phases: upgradePhases(c),
    state,
    // Always asked, whatever the file's approvals: an upgrade restarts every node. A continued run
    // goes on under the approval its first run was given.
    approvals: preApproved ? [] : ['upgrade'],
    model: state,
    clusterHost: c.firstCp,
  });
  const r = await engine.run(() => state.facts());
  const facts = state.facts();
  const approvedBy = preApproved ?? approver(r.decisions);
  if (r.outcome === 'completed' && facts.hops.length > 1 && approvedBy) {
    await continueAsNew<typeof upgradeClusterWorkflow>({ ...input, approvedBy });
  }
  return {
    ...engine.summary(r),
    ...(facts.hops[0] ? { hop: facts.hops[0] } : {}),
    ...(facts.from ? { from: facts.from } : {}),
    upgraded: state.upgraded,
    ...(state.backup ? { backup: { dir: state.backup.dir, sha256: state.backup.sha256 } } : {}),
  };
}

const approver = (decisions: Decision[]) =>
  decisions.find((d) => d.phase === 'upgrade' && d.verdict === 'approved')?.approver;
