// Connecting to a host that does not answer, for a bounded time. A connect that is refused, times
// out or is dropped during the handshake is tried again with backoff (an sshd restart, a reboot's
// last seconds, MaxStartups throttling heal meanwhile) until the budget is spent; then the failure
// is final, not retryable, so the step parks with ssh's own error within about a minute of the host
// going away, instead of after Temporal's whole retry schedule (minutes). What the host refuses
// (host key, login, private key) is final at once, as before.
import { setTimeout as sleep } from 'node:timers/promises';
import { finalError, SshError, type SshErrorKind } from './errors';
import { refOf, type ConnectOptions } from './connect';
import type { HostSession, SshTarget } from './types';

export interface ConnectRetry {
  /** No new try starts once this much time has gone since the first; 0: one try, its error as it is (retryable). */
  budgetMs: number;
  /** Wait after the first failed try, doubled after each, up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
}

/**
 * Tries start at 0, 1, 3, 7, 15, 23, 31 and 39 s: a refused host is given up after about 40 s, one
 * whose packets are dropped (each try waits for its 15 s ready timeout) after about 50 s.
 */
export const DEFAULT_CONNECT_RETRY: ConnectRetry = { budgetMs: 45_000, firstDelayMs: 1000, maxDelayMs: 8000 };

/** Connect failures that a wait can heal: nothing answered, or the connection went during the handshake. */
const AGAIN: ReadonlySet<SshErrorKind> = new Set<SshErrorKind>(['unreachable', 'handshake-timeout', 'connection-lost']);

export async function openWithin<S extends HostSession>(
  open: (target: SshTarget, opts: ConnectOptions) => Promise<S>,
  target: SshTarget,
  opts: ConnectOptions,
  retry: ConnectRetry = DEFAULT_CONNECT_RETRY,
): Promise<S> {
  const started = Date.now();
  let delay = retry.firstDelayMs;
  for (let tries = 1; ; tries++) {
    try {
      return await open(target, opts);
    } catch (err) {
      if (!(err instanceof SshError) || !AGAIN.has(err.kind) || !err.retryable || retry.budgetMs === 0) throw err;
      const spent = Date.now() - started;
      if (spent + delay >= retry.budgetMs)
        throw finalError(
          err,
          `gave up after ${tries} ${tries === 1 ? 'try' : 'tries'} in ${Math.round(spent / 1000)} s`,
        );
      try {
        await sleep(delay, undefined, { signal: opts.signal });
      } catch {
        throw new SshError('aborted', refOf(target), `connect aborted while waiting to try again (${err.detail})`);
      }
      delay = Math.min(delay * 2, retry.maxDelayMs);
    }
  }
}
