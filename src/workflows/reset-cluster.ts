// `kubeadm-ha reset`: takes the cluster of a cluster file down, so that its hosts are clean for a new
// build (kubeadm's "Clean up" and kubeadm reset's docs). Its own workflow on the shared engine, with
// the build's workflow ID, so a reset and a build of one cluster never run at once.
import type { ClusterSpec } from '../config/types';
import type { Decision, Progress } from '../shared/definitions';
import { activitiesFor, type RetryTuning } from './activities';
import { BuildCluster } from './build/cluster';
import { PhaseEngine } from './engine/engine';
import { checkResetInput } from './input-check';
import { resetPhases } from './reset/phases';
import { ResetState } from './reset/state';

export interface ResetClusterInput {
  spec: ClusterSpec;
  tuning?: { retry?: RetryTuning };
}
export interface ResetClusterResult {
  outcome: 'completed' | 'completed-with-skipped' | 'rejected' | 'aborted';
  decisions: Decision[];
  /** Hosts reset by this run, in order. */
  reset: string[];
  /** Workers the operator skipped. */
  skipped: string[];
  /** No host held anything of kubeadm. */
  nothingToDo?: boolean;
  rejection?: Decision;
  abort?: Decision;
  progress: Progress;
}

export async function resetClusterWorkflow(input: ResetClusterInput): Promise<ResetClusterResult> {
  checkResetInput(input);
  const c = new BuildCluster(input.spec);
  const state = new ResetState(c, activitiesFor(input.tuning?.retry));
  const engine = new PhaseEngine({
    cluster: c.spec.name,
    hosts: c.progressHosts,
    phases: resetPhases(c),
    state,
    // A reset always asks, whatever the cluster file's approvals say: it takes nodes down.
    approvals: ['reset'],
    model: state,
    clusterHost: c.firstCp,
  });
  const r = await engine.run(() => state.facts());
  return {
    outcome: r.outcome,
    decisions: r.decisions,
    reset: state.reset,
    skipped: r.skipped,
    ...(r.rejection ? { rejection: r.rejection } : {}),
    ...(r.abort ? { abort: r.abort } : {}),
    ...(r.outcome.startsWith('completed') && r.nothingToDo ? { nothingToDo: true } : {}),
    progress: engine.compactProgress(),
  };
}
