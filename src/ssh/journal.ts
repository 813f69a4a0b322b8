// Journaled remote steps: one remote step, one execution. A step that changes a host runs in a
// detached runner on that host, recorded under JOURNAL_DIR/<id>, so neither a dead worker, a
// dropped connection nor a retried activity attempt can run it twice; retries re-attach instead.
import { randomBytes } from 'node:crypto';
import { redact } from '../common/redact';
import { refOf } from './connect';
import { SshError } from './errors';
import type { HostSession } from './types';
import { END_MARKER, OUTPUT_TAIL_BYTES, attachScript, cancelScript, stateScript } from './journal-scripts';

export const JOURNAL_DIR = '/var/lib/kubeadm-ha/journal';
export const HOST_LOCK = '/var/lib/kubeadm-ha/host.lock';

export interface JournaledStep {
  /** Unique id of this execution: [A-Za-z0-9._-]{1,160}. A retry of the same step passes the same id. */
  id: string;
  /** Shell command (run as root, via sudo -n for a non-root login). Never contains secrets. */
  command: string;
  /** Shell condition run under the host lock just before the command: exit 0 = already done, skip it. */
  guard?: string;
  /** Absolute paths removed on the host when the command ends (success, failure or cancellation). */
  removeAfter?: string[];
  /**
   * A file the command reads (root, 0600, under 0700 folders it creates), sent on stdin in the same
   * exec as the start: secrets in it never reach argv. It is staged under a name of this attempt's
   * own and put in place by the runner that claims the step, under the host lock, right before the
   * command (not when the guard says the work is done): an attempt that attaches, or another step,
   * never changes it while a command reads it. List it in removeAfter when it holds a secret.
   */
  input?: { path: string; content: string | Buffer };
}

export interface StepOutcome {
  id: string;
  state: 'finished' | 'already-done' | 'died' | 'cancelled';
  /** Exit code when finished; null otherwise. */
  exitCode: number | null;
  /** Whole output (stdout+stderr interleaved), redacted on the host, capped at the last 256 KiB. */
  output: string;
  /** true when this call found the execution already started (by another worker/attempt) and attached to it. */
  attached: boolean;
}

export interface JournalRunOptions {
  /** Abort cancels the remote command (kills its process group), then rejects with SshError 'aborted'. */
  signal?: AbortSignal;
  /** Streamed output as it arrives (already redacted on the host). */
  onOutput?: (chunk: string) => void;
  /** Byte offset already seen (a retry passes what the previous attempt reported), to avoid re-streaming. */
  fromOffset?: number;
  onOffset?: (offset: number) => void;
}

const ID = /^[A-Za-z0-9._-]{1,160}$/;
const STATES: ReadonlySet<string> = new Set(['finished', 'already-done', 'died', 'cancelled']);
const MARKER_LINE = new RegExp(`^${END_MARKER} (\\S+) (\\S+) (\\d+) ([01])\\n`, 'm');

function checkId(id: string): void {
  // '.' and '..' match the character set but would name the journal folder or its parent.
  if (!ID.test(id) || id === '.' || id === '..')
    throw new Error(`journaled step id ${JSON.stringify(id)} must match [A-Za-z0-9._-]{1,160}`);
}

function checkStep(step: JournaledStep): void {
  checkId(step.id);
  for (const p of [...(step.removeAfter ?? []), ...(step.input ? [step.input.path] : [])]) {
    // The runner keeps this list one path per line, and rm -f takes it verbatim.
    if (!p.startsWith('/') || /[\n\0]/.test(p))
      throw new Error(`journaled step path ${JSON.stringify(p)} must be absolute and on one line`);
  }
}

export async function runJournaled(
  session: HostSession,
  step: JournaledStep,
  opts: JournalRunOptions = {},
): Promise<StepOutcome> {
  checkStep(step);
  const fromOffset = opts.fromOffset ?? 0;
  if (!Number.isSafeInteger(fromOffset) || fromOffset < 0)
    throw new Error(`fromOffset must be a non-negative integer, got ${fromOffset}`);
  const command = attachScript({
    dir: JOURNAL_DIR,
    lock: HOST_LOCK,
    id: step.id,
    nonce: randomBytes(8).toString('hex'),
    fromOffset,
    command: step.command,
    guard: step.guard,
    removeAfter: step.removeAfter ?? [],
    inputPath: step.input?.path,
  });
  let offset = fromOffset;
  const onOutput = (stream: 'stdout' | 'stderr', chunk: string) => {
    if (stream !== 'stdout') return;
    offset += approxBytes(chunk);
    opts.onOutput?.(chunk);
    opts.onOffset?.(offset);
  };
  let stderr: string;
  try {
    // The marker and the output tail arrive on stderr; stdout only streams.
    ({ stderr } = await session.run(command, {
      signal: opts.signal,
      onOutput,
      maxBytes: OUTPUT_TAIL_BYTES + 64 * 1024,
      ...(step.input ? { stdin: step.input.content } : {}),
    }));
  } catch (err) {
    if (err instanceof SshError && err.kind === 'aborted' && opts.signal?.aborted)
      throw await cancelAfterAbort(session, step.id);
    throw err;
  }
  const outcome = parseEnd(session, step.id, stderr);
  opts.onOffset?.(outcome.size);
  return outcome.result;
}

// Counts U+FFFD (what the decoder makes of invalid bytes) as one byte, so the reported offset
// never runs ahead of the bytes really seen: a retry then re-streams a little instead of skipping.
function approxBytes(chunk: string): number {
  let replaced = 0;
  for (const ch of chunk) if (ch === '\uFFFD') replaced++;
  return Buffer.byteLength(chunk, 'utf8') - 2 * replaced;
}

// Aborting stopped only the attach loop; the detached runner needs an explicit cancel.
async function cancelAfterAbort(session: HostSession, id: string): Promise<SshError> {
  const ref = refOf(session.target);
  try {
    const cancelled = await cancelJournaled(session, id);
    return new SshError(
      'aborted',
      ref,
      cancelled
        ? `journaled step ${id} aborted by caller; its remote process group was killed and the step recorded as cancelled`
        : `journaled step ${id} aborted by caller, but it had already ended on the host`,
    );
  } catch (err) {
    return new SshError(
      'aborted',
      ref,
      `journaled step ${id} aborted by caller; cancelling it on the host failed (${(err as Error).message}), it may still be running`,
    );
  }
}

function parseEnd(session: HostSession, id: string, stderr: string): { result: StepOutcome; size: number } {
  const m = MARKER_LINE.exec(stderr);
  if (!m)
    throw new Error(
      redact(`host ${session.target.name}: journaled step ${id} ended without a result: ${stderr.slice(-2000).trim()}`),
    );
  const [, state, rc, size, claimed] = m;
  if (state === 'input-unwritable')
    throw new Error(
      `host ${session.target.name}: journaled step ${id} could not write its input file; nothing was started (is the disk full or read-only?)`,
    );
  if (state === 'unsupported')
    throw new Error(
      `host ${session.target.name}: journaled steps need setsid, flock and GNU sed (the redaction filter did not work)`,
    );
  if (!STATES.has(state))
    throw new Error(`host ${session.target.name}: journaled step ${id} could not be started (state ${state})`);
  const output = stderr.slice(m.index + m[0].length);
  return {
    result: {
      id,
      state: state as StepOutcome['state'],
      exitCode: state === 'finished' ? Number(rc) : null,
      output,
      attached: claimed !== '1',
    },
    size: Number(size),
  };
}

/**
 * Kills the step's runner (TERM, then KILL, of its process group), removes its removeAfter files
 * and records it as cancelled. An id never claimed is recorded as cancelled too, so a start that
 * is still on its way can never run it. Returns false when the step had already ended.
 */
export async function cancelJournaled(session: HostSession, id: string): Promise<boolean> {
  checkId(id);
  const r = await session.run(cancelScript(JOURNAL_DIR, HOST_LOCK, id));
  if (r.exitCode === 0 || r.exitCode === 1) return r.exitCode === 0;
  throw new Error(
    redact(
      `host ${session.target.name}: cancelling journaled step ${id} failed (exit ${r.exitCode}): ${r.stderr.trim()}`,
    ),
  );
}

/** 'finished' covers every ended state (finished, already-done, cancelled, died); runJournaled tells which. */
export async function journalState(session: HostSession, id: string): Promise<'absent' | 'running' | 'finished'> {
  checkId(id);
  const r = await session.run(stateScript(JOURNAL_DIR, HOST_LOCK, id));
  const state = r.stdout.trim();
  if (r.exitCode === 0 && (state === 'absent' || state === 'running' || state === 'finished')) return state;
  throw new Error(
    redact(`host ${session.target.name}: reading journaled step ${id} failed (exit ${r.exitCode}): ${r.stderr.trim()}`),
  );
}

/** Ids of journaled steps whose runner is alive on the host (from any worker or run). */
export async function busySteps(session: HostSession): Promise<string[]> {
  const r = await session.run(
    `for d in ${JOURNAL_DIR}/*/; do [ -d "$d" ] && [ ! -e "$d/rc" ] && p=$(cat "$d/pid" 2>/dev/null) && ` +
      `grep -qa kha-journal-runner "/proc/$p/cmdline" 2>/dev/null && basename "$d"; done; true`,
  );
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}
