// What every activity does around its work on a host: one SSH session per host, leased from the
// worker's connection pool for the whole activity; a heartbeat every 2 s so a dead worker is noticed
// within seconds; Temporal cancellation wired to the remote command; output streamed to the worker
// log, redacted; and steps that change a host run journaled, so a retry from any worker re-attaches
// instead of running them twice.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { HostSpec, SshSpec } from '../config/types';
import { redact, StreamRedactor } from '../common/redact';
import { SshError } from '../ssh/errors';
import { JournaledStep, runJournaled, StepOutcome } from '../ssh/journal';
import { sessionPool, type SessionLease } from '../ssh/pool';
import { loadTarget } from '../ssh/target';
import type { HostSession, RunOptions, RunResult } from '../ssh/types';

export const HEARTBEAT_MS = 2000;

export interface Remote {
  readonly host: HostSpec;
  readonly session: HostSession;
  /** Runs a command; output is streamed to the log, redacted. Never throws for a non-zero exit. */
  run(command: string, opts?: Omit<RunOptions, 'signal' | 'onOutput'>): Promise<RunResult>;
  /** Runs a command and throws a retryable failure naming the host when it exits non-zero. */
  check(command: string, what: string, opts?: Omit<RunOptions, 'signal' | 'onOutput'>): Promise<RunResult>;
  /** Records what the activity is doing now (heartbeat details: redacted, small). */
  step(note: string): void;
  /**
   * Runs a step that changes the host under the host lock and its journal: started once, whoever
   * asks; a retry re-attaches to it while it runs, or takes its recorded result.
   */
  journaled(step: JournaledStep): Promise<StepOutcome>;
}

interface Beat {
  note: string;
  /** Output offset of the journaled step seen so far: a retry streams only what is new. */
  offset?: number;
}

/**
 * Runs `fn` with SSH sessions to `hosts` (leased in order from the process pool), handing them back
 * whatever happens. A session whose connection was lost is retired by the pool, so a retry connects afresh.
 */
export async function withSessions<T>(
  ssh: SshSpec,
  hosts: HostSpec[],
  fn: (...remotes: Remote[]) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  const beat: Beat = { note: 'connecting' };
  const send = () => ctx.heartbeat({ step: beat.note, ...(beat.offset !== undefined ? { offset: beat.offset } : {}) });
  const timer = setInterval(send, HEARTBEAT_MS);
  send();
  const pool = sessionPool();
  const leases: SessionLease[] = [];
  try {
    for (const host of hosts)
      leases.push(await pool.lease(await loadTarget(host, ssh), { signal: ctx.cancellationSignal }));
    return await fn(...leases.map((lease, i) => remoteFor(hosts[i], lease, beat)));
  } catch (err) {
    throw toFailure(err);
  } finally {
    clearInterval(timer);
    await Promise.all(leases.map((l) => l.close().catch(() => undefined)));
  }
}

/**
 * Streams output to the worker log in whole lines, through the streaming redactor: a secret split
 * across two chunks, or a PEM private key spread over many lines, would slip past a per-chunk redact.
 */
function lineLogger(host: string, stream: 'stdout' | 'stderr') {
  const ctx = Context.current();
  const redactor = new StreamRedactor();
  const emit = (text: string) => {
    for (const line of text.split('\n'))
      if (line.trim()) ctx.log.info(`[${host}] ${stream === 'stderr' ? '! ' : ''}${line}`);
  };
  return {
    write(chunk: string) {
      emit(redactor.push(chunk));
    },
    flush() {
      emit(redactor.end());
    },
  };
}

function remoteFor(host: HostSpec, session: HostSession, beat: Beat): Remote {
  const ctx = Context.current();
  const setNote = (n: string) => {
    beat.note = redact(n).slice(0, 200);
  };
  const run = async (command: string, opts: Omit<RunOptions, 'signal' | 'onOutput'> = {}) => {
    setNote(`${host.name}: ${command.split('\n')[0]}`);
    const logs = { stdout: lineLogger(host.name, 'stdout'), stderr: lineLogger(host.name, 'stderr') };
    try {
      return await session.run(command, {
        ...opts,
        signal: ctx.cancellationSignal,
        onOutput: (stream, chunk) => logs[stream].write(chunk),
      });
    } finally {
      logs.stdout.flush();
      logs.stderr.flush();
    }
  };
  const journaled = async (step: JournaledStep) => {
    setNote(`${host.name}: ${step.command.split('\n')[0]} (journal ${step.id})`);
    const log = lineLogger(host.name, 'stdout');
    const previous = (ctx.info.heartbeatDetails as Beat | undefined)?.offset;
    try {
      return await runJournaled(session, step, {
        signal: ctx.cancellationSignal,
        onOutput: (chunk) => log.write(chunk),
        ...(previous !== undefined ? { fromOffset: previous } : {}),
        onOffset: (offset) => {
          beat.offset = offset;
        },
      });
    } finally {
      log.flush();
    }
  };
  return {
    host,
    session,
    run,
    journaled,
    step: (n) => setNote(`${host.name}: ${n}`),
    async check(command, what, opts) {
      const r = await run(command, opts);
      if (r.exitCode !== 0) {
        throw ApplicationFailure.retryable(
          `${host.name}: ${what} failed (exit ${r.exitCode ?? 'unknown'}): ${tail(r.stderr || r.stdout)}`,
          'CommandFailed',
        );
      }
      return r;
    },
  };
}

/** Last lines of command output, redacted and short enough for a failure message in history. */
export function tail(text: string, max = 600): string {
  const t = redact(text.trim());
  return t.length <= max ? t : `…${t.slice(-max)}`;
}

const SSH_FAILURE_TYPES: Record<string, string> = {
  'unknown-host': 'HostKeyRejected',
  'host-key-mismatch': 'HostKeyRejected',
  'auth-failed': 'SshAuthFailed',
  'bad-private-key': 'BadPrivateKey',
  'sudo-failed': 'SudoFailed',
};

/** Maps errors to Temporal failures whose type says whether retrying can help. */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof SshError) {
    const type = SSH_FAILURE_TYPES[err.kind] ?? 'SshUnavailable';
    return ApplicationFailure.create({ message: redact(err.message), type, nonRetryable: !err.retryable });
  }
  if (err instanceof Error && err.name === 'CancelledFailure') return err;
  return ApplicationFailure.retryable(redact(err instanceof Error ? err.message : String(err)), 'ActivityError');
}

/**
 * Polls `probe` until it returns a value, sleeping between tries (cancellable). With `attempts`,
 * gives up after that many tries by throwing `giveUp()`.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  opts: { attempts?: number; giveUp?: () => Error; intervalMs?: number } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (opts.attempts !== undefined && attempt >= opts.attempts)
      throw opts.giveUp?.() ?? new Error(`gave up after ${attempt} tries`);
    await Context.current().sleep(opts.intervalMs ?? 2000);
  }
}
