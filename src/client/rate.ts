// How fast a fan-out phase finishes hosts and when it would be done at that pace, and how `status`
// and `watch` print a duration. Pure.

/**
 * Phases that finish hosts on many at once, with the activity of their step: the ones a rate and an
 * ETA make sense for. (inspectHosts and distributeCerts leave their hosts running until the phase
 * ends, so their counts say nothing about what is left.)
 */
export const FAN_OUT_PHASES: Readonly<Record<string, string>> = {
  etcdCluster: 'buildEtcdMember',
  joinWorkers: 'joinNode',
};

/** Hosts done per minute over a phase, and when the rest would be done at that pace. */
export interface PhaseRate {
  phase: string;
  /** Hosts whose step in this phase finished since `sinceMs`. */
  done: number;
  perMinute: number;
  /** Wall time (ms) the rate is measured over. */
  overMs: number;
  /** Minutes until the hosts still pending or running are done, at this rate; undefined when nothing is measured yet. */
  etaMinutes?: number;
}

/**
 * The rate of a phase from (time, hosts done) samples, oldest first: the first sample is where the
 * measurement starts (the phase start, or when the watcher first saw the phase). Pure.
 */
export function rateOf(
  phase: string,
  samples: { t: number; done: number }[],
  remaining: number,
): PhaseRate | undefined {
  if (samples.length === 0) return undefined;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const overMs = last.t - first.t;
  const done = last.done - first.done;
  if (overMs <= 0) return { phase, done, perMinute: 0, overMs: 0 };
  const perMinute = (done * 60_000) / overMs;
  return { phase, done, perMinute, overMs, ...(perMinute > 0 ? { etaMinutes: remaining / perMinute } : {}) };
}

/** What a phase's history says: when it started (its first search-attribute update naming it) and when each of its steps completed. */
export interface HistoryMark {
  t: number;
  /** 'phase': the run entered `phase`; 'completed': an activity of `activityType` completed. */
  kind: 'phase' | 'completed';
  phase?: string;
  activityType?: string;
}

/**
 * The running phase's rate from the workflow history's timestamps (start of the phase, completions of
 * its step's activity since), with `remaining` hosts to go. Pure.
 */
export function rateFromHistory(
  phase: string,
  marks: HistoryMark[],
  remaining: number,
  now: number,
): PhaseRate | undefined {
  const step = FAN_OUT_PHASES[phase];
  const start = marks.find((m) => m.kind === 'phase' && m.phase === phase);
  if (!step || !start) return undefined;
  const done = marks.filter((m) => m.kind === 'completed' && m.activityType === step && m.t >= start.t).length;
  return rateOf(
    phase,
    [
      { t: start.t, done: 0 },
      { t: now, done },
    ],
    remaining,
  );
}

/** "45s", "3m07s", "1h05m". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${String(s % 60).padStart(2, '0')}s` : ''}`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** An ETA in minutes as `status` and `watch` print it: "<1m", "24m", "1h05m". */
export function eta(minutes: number): string {
  return minutes < 1 ? '<1m' : formatDuration(Math.round(minutes) * 60_000);
}
