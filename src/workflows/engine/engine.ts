// The loop every workflow shares: for each phase in order, its plan from the facts (skipped with
// the reason when it has nothing to do, and then its gate is not asked), its gate, its run; an
// operator's abort or rejection ends the run cleanly, anything else fails it with the phase named.
import { CancellationScope, isCancellation, setHandler } from '@temporalio/workflow';
import type { Gate } from '../../config/enums';
import type { HostSpec } from '../../config/types';
import { type Decision, type HostProgress, type Progress, progressQuery } from '../../shared/definitions';
import { type HostModel, PhaseContext } from './context';
import { Decisions } from './decisions';
import { flatten, isSkipped, type Phase } from './phase';
import { RunProgress } from './progress';
import { AbortedByOperator, failureOf, StepRunner } from './steps';

export type Outcome = 'completed' | 'completed-with-skipped' | 'rejected' | 'aborted';

export interface EngineResult {
  outcome: Outcome;
  decisions: Decision[];
  /** Hosts the operator skipped. */
  skipped: string[];
  /** Only read-only phases ran: no host was changed. */
  nothingToDo: boolean;
  rejection?: Decision;
  abort?: Decision;
}

/** What every workflow's result says of its run: how it ended, the decisions, the skipped hosts, the progress. */
export interface RunSummary {
  outcome: Outcome;
  decisions: Decision[];
  /** Hosts the operator skipped. */
  skipped: string[];
  /** Every phase that changes hosts was skipped: the hosts already matched. */
  nothingToDo?: boolean;
  rejection?: Decision;
  abort?: Decision;
  progress: Progress;
}

export interface EngineOptions<F, S> {
  cluster: string;
  hosts: Pick<HostProgress, 'name' | 'address' | 'role'>[];
  phases: Phase<F, S>[];
  /** The workflow's run state, which phases' runs read and write. */
  state: S;
  /** The gates the cluster file asks for. */
  approvals: readonly Gate[];
  model: HostModel;
  /** The host of cluster-level steps. */
  clusterHost: HostSpec;
}

class RejectedAtGate extends Error {
  constructor(readonly decision: Decision) {
    super(`rejected by ${decision.approver}`);
  }
}

export class PhaseEngine<F, S> {
  readonly decisions = new Decisions();
  readonly progress: RunProgress;
  readonly skipped: string[] = [];
  private readonly phases: Phase<F, S>[];
  private readonly runner: StepRunner;

  constructor(private readonly o: EngineOptions<F, S>) {
    this.phases = flatten(o.phases);
    this.progress = new RunProgress(o.cluster, o.hosts, this.phases, this.decisions);
    this.runner = new StepRunner(this.decisions, this.progress);
    setHandler(progressQuery, () => this.progress.view());
  }

  /** The context a phase runs in (tests and phases that run steps outside `run`). */
  context(phase: string): PhaseContext<S> {
    return new PhaseContext(
      phase,
      this.o.state,
      this.runner,
      this.progress,
      this.decisions,
      this.o.model,
      this.o.clusterHost,
      this.skipped,
    );
  }

  /** Runs the phases; `facts` is read as each phase is planned (the first phases gather it). */
  async run(facts: () => F): Promise<EngineResult> {
    const { progress } = this;
    let changed = false;
    const result = (outcome: Outcome, extra: Partial<EngineResult> = {}): EngineResult => ({
      outcome,
      decisions: this.decisions.taken,
      skipped: this.skipped,
      nothingToDo: !changed,
      ...extra,
    });
    for (const phase of this.phases) {
      try {
        const plan = phase.plan(facts());
        if (isSkipped(plan)) {
          progress.setPhase(phase.name, 'skipped', plan.skip);
          continue;
        }
        if (phase.gate && this.o.approvals.includes(phase.gate)) {
          const wait = this.decisions.waitForGate(phase.gate);
          progress.changed();
          const d = await wait;
          if (d.verdict === 'rejected') throw new RejectedAtGate(d);
        }
        progress.setPhase(phase.name, 'running');
        if (!phase.readOnly) changed = true;
        await phase.run!(this.context(phase.name), plan.hosts);
        if (this.runner.abort) throw new AbortedByOperator(this.runner.abort);
        progress.setPhase(phase.name, 'done');
      } catch (err) {
        if (err instanceof RejectedAtGate) {
          progress.status = 'rejected';
          progress.changed();
          return result('rejected', { rejection: err.decision });
        }
        if (err instanceof AbortedByOperator) {
          const d = err.decision;
          progress.status = 'aborted';
          progress.lastError = `${phase.name}: aborted by ${d.approver}${d.comment ? ` (${d.comment})` : ''}; the hosts were left as they are`;
          progress.setPhase(phase.name, 'failed', progress.lastError);
          return result('aborted', { abort: d });
        }
        progress.status = isCancellation(err) ? 'cancelled' : 'failed';
        progress.lastError = `${phase.name}: ${isCancellation(err) ? 'cancelled' : failureOf(err).message}`;
        // The memo must be written even though the run is being cancelled.
        await CancellationScope.nonCancellable(async () => progress.setPhase(phase.name, 'failed'));
        throw err;
      }
    }
    const outcome = this.skipped.length ? 'completed-with-skipped' : 'completed';
    progress.status = outcome;
    progress.changed();
    return result(outcome);
  }

  /** The progress as the memo keeps it, for the workflow's result. */
  compactProgress(): Progress {
    return this.progress.compactView();
  }

  /** The run's summary for the workflow's result, from what `run` returned. */
  summary(r: EngineResult): RunSummary {
    return {
      outcome: r.outcome,
      decisions: r.decisions,
      skipped: r.skipped,
      ...(r.rejection ? { rejection: r.rejection } : {}),
      ...(r.abort ? { abort: r.abort } : {}),
      ...(r.outcome.startsWith('completed') && r.nothingToDo ? { nothingToDo: true } : {}),
      progress: this.compactProgress(),
    };
  }
}
