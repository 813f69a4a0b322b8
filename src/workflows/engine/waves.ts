// A large fleet's workers in waves: each wave a child workflow running one step on a share of them,
// so no execution's history grows with the fleet (Temporal warns past 10,240 events). The run stays
// the one place operators address: a wave reports its hosts and parks to the run (a signal at each
// change it publishes, so a bounded number per wave), the run offers those parks as its own and
// relays the decisions, and its progress counts every host. A wave starts once the one before it has
// nothing left pending or running (only parks, or nothing): at most one wave's steps run at a time,
// so the concurrency limit holds across waves, and a park never holds back the rest of the fleet.
import {
  type ChildWorkflowHandle,
  condition,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { HostSpec } from '../../config/types';
import {
  type Decision,
  type HostState,
  type ParkDecisionInput,
  resolveSignal,
  type WaveProgress,
  type WaveReport,
  waveReportSignal,
} from '../../shared/definitions';
import type { PhaseContext } from './context';
import type { Outcome, PhaseEngine } from './engine';
import { AbortedByOperator } from './steps';

/** What a wave's workflow returns: how it ended, and which of its hosts were skipped or never finished. */
export interface WaveResult {
  outcome: Outcome;
  abort?: Decision;
  skipped: string[];
  /** Hosts neither done nor skipped (an abort ended the wave first). */
  unfinished: string[];
}

export interface WaveSpec<R extends WaveResult> {
  /** The child's name under the run: `workers-3`. */
  name: string;
  hosts: HostSpec[];
  /** Starts the child under `workflowId` (typed from its workflow function by the caller). */
  start(workflowId: string): Promise<Pick<ChildWorkflowHandle<() => Promise<R>>, 'result'>>;
}

/** The wave's workflow id: the run's, then `/<name>`. */
export const waveId = (name: string): string => `${workflowInfo().workflowId}/${name}`;

/**
 * Runs the waves one after another, each starting when the one before has nothing pending or running
 * left. `doneAs`: the state a host finished in a wave has in the run (`running` for a step the run
 * itself goes on with, e.g. inspection before classification). An abort decided in any wave ends the
 * phase as an abort; the run closing terminates the waves still open (their running steps are cancelled).
 */
export async function runWaves<R extends WaveResult>(
  ctx: PhaseContext,
  step: string,
  waves: WaveSpec<R>[],
  doneAs: HostState = 'done',
): Promise<R[]> {
  type Wave = { view: WaveProgress; open: number; result?: R; failed?: boolean };
  const open = new Map<string, Wave>();
  let abort: Decision | undefined;
  setHandler(waveReportSignal, (r: WaveReport) => {
    const w = open.get(r.wave);
    if (!w || w.result) return;
    w.open = r.open;
    for (const h of r.hosts)
      ctx.progress.setHost(h.name, h.state === 'done' ? doneAs : h.state, h.detail ?? `${step} in ${r.wave}`);
    const send = (i: ParkDecisionInput) =>
      void getExternalWorkflowHandle(r.wave)
        .signal(resolveSignal, i)
        .catch(() => undefined); // the wave ended meanwhile: its result says how
    // Parks and decisions are published at once; finished hosts as the run's own are, every tenth of the fleet.
    if (ctx.relayParks(r.wave, r.parked, send)) ctx.progress.changed();
    else ctx.progress.hostFinished(r.hosts.filter((h) => h.state !== 'pending' && h.state !== 'running').length);
  });
  const results: Promise<R>[] = [];
  for (const spec of waves) {
    if (abort) break;
    const id = waveId(spec.name);
    const view: WaveProgress = { id, step, hosts: spec.hosts.length, state: 'running' };
    const w: Wave = { view, open: spec.hosts.length };
    open.set(id, w);
    ctx.progress.waves.push(view);
    for (const h of spec.hosts) ctx.progress.setHost(h.name, 'pending', `${step} in ${id}`);
    ctx.progress.changed();
    const handle = await spec.start(id);
    results.push(
      handle.result().then(
        (r) => {
          w.result = r;
          view.state = r.outcome === 'aborted' ? 'failed' : 'done';
          finish(ctx, spec.hosts, r, doneAs);
          if (r.outcome === 'aborted') abort ??= r.abort;
          ctx.progress.changed();
          return r;
        },
        (err: unknown) => {
          w.failed = true;
          view.state = 'failed';
          throw err;
        },
      ),
    );
    await condition(() => w.result !== undefined || w.failed === true || w.open === 0 || abort !== undefined);
  }
  const ended = (x: Wave) => x.result !== undefined || x.failed === true;
  await condition(() => abort !== undefined || [...open.values()].every(ended));
  if (abort) throw new AbortedByOperator(abort);
  return Promise.all(results);
}

/** The run's view of a wave's hosts once it ended. */
function finish(ctx: PhaseContext, hosts: HostSpec[], r: WaveResult, doneAs: HostState): void {
  for (const h of hosts) {
    if (r.skipped.includes(h.name)) {
      if (!ctx.skipped.includes(h.name)) ctx.skipped.push(h.name);
      ctx.progress.setHost(h.name, 'skipped', ctx.skippedBy(h.name));
    } else if (!r.unfinished.includes(h.name)) ctx.progress.setHost(h.name, doneAs, ctx.progress.detailOf(h.name));
  }
}

/**
 * In a wave: report to the run after each publish, in order (one signal at a time). `flush` waits for
 * the last report, so the run has it before it sees the wave's result.
 */
export function reportToRun<F, S>(engine: PhaseEngine<F, S>): { flush(): Promise<void> } {
  const parent = workflowInfo().parent;
  if (!parent) throw new Error('a wave runs as a child of its run');
  const run = getExternalWorkflowHandle(parent.workflowId, parent.runId);
  const wave = workflowInfo().workflowId;
  let queue: Promise<void> = Promise.resolve();
  const { progress, decisions } = engine;
  progress.reportEachPublish(() => {
    const c = progress.counts();
    const report: WaveReport = {
      wave,
      hosts: progress.changedSinceReport(),
      parked: [...decisions.parked.values()],
      open: c.pending + c.running,
    };
    // A report the run cannot take (it has closed, and this wave is being terminated) is not retried.
    queue = queue.then(() => run.signal(waveReportSignal, report)).catch(() => undefined);
  });
  return { flush: () => queue };
}

/** The hosts a wave's workflow neither finished nor skipped. */
export function unfinishedIn<F, S>(engine: PhaseEngine<F, S>): string[] {
  return engine.progress
    .view()
    .hosts.filter((h) => h.state !== 'done' && h.state !== 'skipped')
    .map((h) => h.name);
}
