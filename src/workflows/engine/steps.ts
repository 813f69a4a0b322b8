// One step on one host, as the workflow sees it: run it; when it fails in a way a reset heals,
// clean the node and run it again; when it has used its retries, or cannot heal, park it for an
// operator (retry, skip for workers, abort) while the other hosts carry on. A reset of a node that
// belongs to a live cluster parks first, saying what it would remove, until an operator approves it.
import { ActivityFailure, ApplicationFailure, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { sha256Hex } from '../../common/sha256';
import { HEALED_BY_RESET } from '../../shared/failures';
import type { Role } from '../../activities/types';
import type { HostSpec } from '../../config/types';
import type { AttemptRecord, Decision, ParkVerdict } from '../../shared/definitions';
import type { Decisions } from './decisions';
import type { RunProgress } from './progress';

/** Automatic reset-and-retry rounds before a healable step parks anyway. */
export const AUTO_HEALS = 2;

export class AbortedByOperator extends Error {
  constructor(readonly decision: Decision) {
    super(`aborted by ${decision.approver}${decision.comment ? `: ${decision.comment}` : ''}`);
  }
}

/** Runs from before this patch reset every half-done node without asking (their histories replay so). */
export const RESET_NEEDS_OPERATOR = 'reset-needs-operator';

/** What a reset of the node means before it runs. */
export interface ResetPlan {
  /** Why only an operator may approve it (the node belongs to a live cluster); undefined: it runs by itself. */
  needsOperator?: string;
  /** What a retry then does, in order; shown with the park. */
  retryWill: string[];
}

export interface StepSpec<T> {
  phase: string;
  /** Activity-level name, e.g. joinNode; with the host and try number it makes the journal id. */
  step: string;
  host: HostSpec;
  role: Role;
  /** Runs the step under a journal id; a new id per try, the same id across Temporal's retries of one try. */
  run(stepId: string): Promise<T>;
  /**
   * Cleans what a failed try left (reset of a half-done node); undefined when there was nothing to
   * clean. `approvedBy`: the operator who approved it. Without it, failures park directly.
   */
  clean?(stepId: string, approvedBy?: string): Promise<string | undefined>;
  /** The reset `clean` would do: for what an earlier run left (`fromEarlierRun`), or after a failed try of this run. */
  resetPlan?(fromEarlierRun: boolean): ResetPlan;
  /** What a retry does when there is nothing to clean (default: the step again). */
  retryWill?: string[];
  /** The decisions a park offers (default: retry, abort, and skip when skippable). */
  options?: ParkVerdict[];
  /** The decisions a park offers after a failure of this type, when they differ from `options`. */
  optionsFor?(failureType: string): ParkVerdict[] | undefined;
  /** Workers may be skipped by the operator; control planes and cluster steps may not. */
  skippable: boolean;
  /** The node is half-done from an earlier run: clean it before the first try. */
  startWithClean?: boolean;
}

export const SKIPPED = Symbol('skipped');

/** Host names up to this length appear whole in journal ids; longer ones are shortened. */
const WHOLE_HOST = 63;

/**
 * A step's journal id: the run's tag, the step, the host and the try. A node name may be 253
 * characters (a DNS subdomain) but a journal id at most 160 (src/ssh/journal.ts), so a long name is
 * cut and made unique again by a hash of the whole name.
 */
export function stepIdFor(tag: string, step: string, host: string, n: number | string): string {
  const h = host.length <= WHOLE_HOST ? host : `${host.slice(0, 40)}-${sha256Hex(host).slice(0, 16)}`;
  return `${tag}.${step}.${h}.${n}`;
}

export class StepRunner {
  private readonly tag = workflowInfo().runId.replace(/-/g, '').slice(0, 12);
  /** Set once an operator aborts: no new step starts; running ones finish. */
  abort: Decision | undefined;

  constructor(
    private readonly decisions: Decisions,
    private readonly progress: RunProgress,
  ) {}

  stepId(step: string, host: string, n: number | string): string {
    return stepIdFor(this.tag, step, host, n);
  }

  async run<T>(s: StepSpec<T>): Promise<T | typeof SKIPPED> {
    const attempts: AttemptRecord[] = [];
    let heals = 0;
    if (s.startWithClean && s.clean && !(await this.cleanOrPark(s, 0, attempts, true))) return SKIPPED;
    for (let n = 1; ; n++) {
      if (this.abort) throw new AbortedByOperator(this.abort);
      try {
        return await s.run(this.stepId(s.step, s.host.name, n));
      } catch (err) {
        if (isCancellation(err)) throw err;
        const f = failureOf(err);
        attempts.push({ attempt: n, error: f.message, at: new Date().toISOString() });
        const plan = s.clean ? s.resetPlan?.(false) : undefined;
        const needsOperator = plan?.needsOperator !== undefined && patched(RESET_NEEDS_OPERATOR);
        const heal = s.clean !== undefined && HEALED_BY_RESET.includes(f.type) && heals < AUTO_HEALS && !needsOperator;
        if (heal) {
          heals++;
          this.progress.setHost(s.host.name, 'running', `${f.message} — cleaning the node, then ${s.step} again`);
          if (!(await this.cleanOrPark(s, n, attempts, false))) return SKIPPED;
          continue;
        }
        const decision = await this.park(s, attempts, plan?.retryWill ?? s.retryWill, f.type);
        if (decision.verdict === 'skip') return SKIPPED;
        heals = 0;
        // The retry the operator chose is the approval of the reset the park named.
        if (s.clean && !(await this.cleanOrPark(s, n, attempts, false, needsOperator ? decision.approver : undefined)))
          return SKIPPED;
      }
    }
  }

  /**
   * A reset that needs an operator parks first, with what it removes; a clean-up that fails parks
   * like any step, and the operator fixes the host and retries. False: skipped.
   */
  private async cleanOrPark<T>(
    s: StepSpec<T>,
    n: number,
    attempts: AttemptRecord[],
    fromEarlierRun: boolean,
    approvedBy?: string,
  ): Promise<boolean> {
    const plan = s.resetPlan?.(fromEarlierRun);
    if (plan?.needsOperator && approvedBy === undefined && patched(RESET_NEEDS_OPERATOR)) {
      attempts.push({
        attempt: n,
        error: `reset needs an operator: ${plan.needsOperator}`,
        at: new Date().toISOString(),
      });
      const decision = await this.park(s, attempts, plan.retryWill);
      if (decision.verdict === 'skip') return false;
      approvedBy = decision.approver;
    }
    for (let c = 1; ; c++) {
      try {
        const detail = await s.clean!(this.stepId(`clean-${s.step}`, s.host.name, `${n}-${c}`), approvedBy);
        if (detail) this.progress.cleanup(s.host.name, s.step, detail);
        return true;
      } catch (err) {
        if (isCancellation(err)) throw err;
        attempts.push({
          attempt: n,
          error: `clean-up before retrying: ${failureOf(err).message}`,
          at: new Date().toISOString(),
        });
        if ((await this.park(s, attempts, plan?.retryWill)).verdict === 'skip') return false;
      }
    }
  }

  /**
   * Parks the step until an operator decides; an abort ends the run (no new step starts). Keyed by the
   * attempt records so far, which grow before every park: each park waits for a decision of its own.
   */
  private async park<T>(
    s: StepSpec<T>,
    attempts: AttemptRecord[],
    retryWill?: string[],
    failureType = '',
  ): Promise<Decision> {
    const options: ParkVerdict[] =
      s.optionsFor?.(failureType) ?? s.options ?? (s.skippable ? ['retry', 'skip', 'abort'] : ['retry', 'abort']);
    this.progress.setHost(s.host.name, 'parked', `${s.step} parked: ${attempts[attempts.length - 1].error}`);
    const decided = this.decisions.park({
      key: `park:${s.step}:${s.host.name}:${attempts.length}`,
      phase: s.phase,
      step: s.step,
      host: s.host.name,
      role: s.role,
      attempts: [...attempts],
      options,
      since: new Date().toISOString(),
      ...(retryWill?.length ? { retryWill } : {}),
    });
    this.progress.changed(); // parked now: the Web UI and a worker-less status show it
    const decision = await decided;
    const state = decision.verdict === 'skip' ? 'skipped' : decision.verdict === 'abort' ? 'failed' : 'running';
    this.progress.setHost(
      s.host.name,
      state,
      `${decision.verdict} by ${decision.approver}${decision.comment ? `: ${decision.comment}` : ''}`,
    );
    this.progress.changed();
    if (decision.verdict === 'abort') {
      this.abort = decision;
      throw new AbortedByOperator(decision);
    }
    return decision;
  }
}

/** The failure's type and its most useful sentence: the activity's own message, not the wrapper's. */
export function failureOf(err: unknown): { type: string; message: string } {
  let e: unknown = err;
  if (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return { type: e.type ?? 'Error', message: e.message };
  if (e instanceof Error) {
    // Timeouts (heartbeat, start-to-close) after the retries ran out.
    const cause = (e as { cause?: Error }).cause;
    return { type: e.name, message: cause?.message ? `${e.message}: ${cause.message}` : e.message };
  }
  return { type: 'Error', message: String(e) };
}
