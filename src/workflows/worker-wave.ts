// One wave of a large fleet's workers (build/waves.ts): a child workflow of the build that inspects
// or joins its share of the workers with the same steps, parks and progress as the build itself,
// and reports to the build as it goes (engine/waves.ts). Its input comes from the build, not from an
// operator: the cluster file with this wave's workers only, and what the build learned before.
import { patched } from '@temporalio/workflow';
import type { HostFacts } from '../activities/types';
import type { ClusterSpec } from '../config/types';
import type { NodeState } from '../kubeadm/node-state';
import { activitiesFor, type RetryTuning } from './activities';
import { PhaseEngine } from './engine/engine';
import type { Phase } from './engine/phase';
import { reportToRun, unfinishedIn, type WaveResult } from './engine/waves';
import { BuildCluster } from './build/cluster';
import { inspectSteps, joinWorkerSteps } from './build/host-steps';
import { runTokens, type TokenTuning } from './build/join-tokens';
import { type BuildFacts, BuildState, DEFAULT_UPLOADED_CERTS } from './build/state';

export type WaveStep = 'inspectHost' | 'joinNode';

export interface WorkerWaveInput {
  step: WaveStep;
  /** The cluster file with only this wave's workers (none marked `remove`). */
  spec: ClusterSpec;
  tuning?: { retry?: RetryTuning; token?: TokenTuning };
  /** To join: the cluster CA's public-key hash. */
  caCertHash?: string;
  /** To join: the workers an earlier attempt left half-done, as inspection found them. */
  halfDone?: Record<string, NodeState>;
}

export interface WorkerWaveResult extends WaveResult {
  /** Inspection: each inspected worker's facts. */
  facts?: HostFacts[];
}

/** The wave's one phase: the build's phase of the same name, on this wave's workers. */
const wavePhase = (c: BuildCluster, step: WaveStep): Phase<BuildFacts, BuildState> => {
  const inspect = step === 'inspectHost';
  const workers = c.spec.workers;
  return {
    name: inspect ? 'inspectHosts' : 'joinWorkers',
    title: `${inspect ? 'Inspect' : 'Join'} ${workers.length} workers, at most ${c.spec.workerConcurrency} at a time`,
    readOnly: inspect,
    plan: () => ({
      hosts: workers,
      actions: workers.map((h) => ({
        host: h.name,
        role: 'worker' as const,
        action: inspect ? 'inspect (read-only)' : 'kubeadm join',
      })),
    }),
    run: async (ctx, hosts) => {
      if (inspect) {
        // Done here once inspected: the build classifies them.
        await ctx.onHosts(hosts, { ...inspectSteps(ctx.state), last: true });
        return;
      }
      await ctx.onHosts(hosts, joinWorkerSteps(ctx.state));
      await ctx.state.tokens.deleteMinted();
    },
  };
};

export async function workerWaveWorkflow(input: WorkerWaveInput): Promise<WorkerWaveResult> {
  const c = new BuildCluster(input.spec);
  const acts = activitiesFor(input.tuning?.retry);
  const tokens = runTokens(acts, c, input.tuning?.token);
  const state = new BuildState(c, acts, tokens, DEFAULT_UPLOADED_CERTS, patched);
  state.caCertHash = input.caCertHash ?? '';
  for (const [name, s] of Object.entries(input.halfDone ?? {})) state.states.set(name, s);
  const engine = new PhaseEngine({
    cluster: c.spec.name,
    hosts: c.progressHosts.filter((h) => h.role === 'worker'),
    phases: [wavePhase(c, input.step)],
    state,
    approvals: [],
    model: state,
    clusterHost: c.firstCp,
  });
  const reports = reportToRun(engine);
  const r = await engine.run(() => state.facts());
  await reports.flush();
  return {
    outcome: r.outcome,
    ...(r.abort ? { abort: r.abort } : {}),
    skipped: r.skipped,
    unfinished: unfinishedIn(engine),
    ...(input.step === 'inspectHost'
      ? { facts: c.spec.workers.flatMap((h) => state.hostFacts.get(h.name) ?? []) }
      : {}),
  };
}
