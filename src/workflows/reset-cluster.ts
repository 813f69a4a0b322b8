// `kubeadm-ha reset`: takes the cluster of a cluster file down, so that its hosts are clean for a new
// build (kubeadm's "Clean up" and kubeadm reset's docs). Its own workflow on the shared engine, with
// the build's workflow ID, so a reset and a build of one cluster never run at once.
import type { ClusterSpec } from '../config/types';
import { activitiesFor, type RetryTuning } from './activities';
import { BuildCluster } from './build/cluster';
import { PhaseEngine, type RunSummary } from './engine/engine';
import { checkResetInput } from './input-check';
import { resetPhases } from './reset/phases';
import { ResetState } from './reset/state';

export interface ResetClusterInput {
  spec: ClusterSpec;
  tuning?: { retry?: RetryTuning };
}
export interface ResetClusterResult extends RunSummary {
  /** Hosts reset by this run, in order. */
  reset: string[];
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
  return { ...engine.summary(r), reset: state.reset };
}
