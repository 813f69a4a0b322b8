// How following a run ends when nobody is there to help: the diagnosis of a run that failed (the
// phase, the step and its error), and a run that cannot go on by itself however long one waits: no
// worker answers, or the worker fails the workflow's own code at every try.
import {
  ActivityFailure,
  ApplicationFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import type { Progress } from '../shared/definitions';

/** The exit code of `start --exit-on-park` when the run cannot go on by itself (no worker, failing workflow code). */
export const EXIT_STALLED = 6;

/** How long a run may look stalled before a watch that nobody follows gives up on it. */
export const STALL_LIMIT_MS = 30_000;

/** Why the run failed, in one line: the phase, the step (activity) and the error with its type. */
export async function failureLine(handle: WorkflowHandle, p: Progress | undefined): Promise<string> {
  const where = p?.phase ? ` in phase ${p.phase}` : '';
  try {
    await handle.result();
    return `Failed${where}`;
  } catch (err) {
    const f = err instanceof WorkflowFailedError ? err.cause : err;
    if (f instanceof ActivityFailure) {
      const c = f.cause;
      return `Failed${where} at step ${f.activityType}: ${c?.message ?? f.message}${typeOf(c)}`;
    }
    return `Failed${where}: ${f instanceof Error ? f.message : String(f)}${typeOf(f)}`;
  }
}

const typeOf = (e: unknown): string => (e instanceof ApplicationFailure && e.type ? ` [${e.type}]` : '');

/**
 * Why the run cannot go on by itself, once it has looked so for STALL_LIMIT_MS: its workflow task
 * keeps failing (a bug or a code change the history does not replay with: the worker's log has it),
 * or no worker answers (the note readProgress gave). Undefined while the run can still go on.
 */
export class StallWatch {
  private since: number | undefined;

  constructor(
    private readonly client: Client,
    private readonly limitMs = STALL_LIMIT_MS,
  ) {}

  async check(
    handle: WorkflowHandle,
    desc: Awaited<ReturnType<WorkflowHandle['describe']>>,
    noWorker: string | undefined,
    now = Date.now(),
  ): Promise<string | undefined> {
    const attempt = desc.raw.pendingWorkflowTask?.attempt ?? 0;
    const failing = attempt > 1;
    if (!failing && noWorker === undefined) {
      this.since = undefined;
      return undefined;
    }
    this.since ??= now;
    if (now - this.since < this.limitMs) return undefined;
    const waited = `for ${Math.round((now - this.since) / 1000)} s`;
    if (failing)
      return `the worker fails the run's workflow task at every try (attempt ${attempt}, ${waited}): ${await this.taskFailure(handle)}; see the worker's log`;
    return `${noWorker} (${waited})`;
  }

  /** The last workflow task failure the history recorded, decrypted. */
  private async taskFailure(handle: WorkflowHandle): Promise<string> {
    try {
      const history = await handle.fetchHistory();
      const failed = [...(history.events ?? [])].reverse().find((e) => e.workflowTaskFailedEventAttributes);
      const failure = failed?.workflowTaskFailedEventAttributes?.failure;
      const err = await decodeOptionalFailureToOptionalError(this.client.options.loadedDataConverter, failure);
      return err?.message ?? 'no failure recorded';
    } catch (err) {
      return `its failure could not be read (${(err as Error).message})`;
    }
  }
}
