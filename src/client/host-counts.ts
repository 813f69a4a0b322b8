// Hosts counted by state, and what replaces one line per host above MANY_HOSTS hosts: the counts
// per role, the hosts that need an operator by name, and summary lines with a rate while watching.
import { HOST_STATES, RUNNING_NAMED, type HostState, type Progress } from '../shared/definitions';
import { eta, formatDuration, rateOf, type PhaseRate } from './rate';
import { hostTable, table } from './table';

/**
 * Above this many hosts, `status` summarises (counts per state and role, the hosts that need an
 * operator by name, the running ones as a count) and `watch` prints one summary line per change of
 * counts instead of one line per host.
 */
export const MANY_HOSTS = 20;

/** Every host the run knows, counted (the memo's compact view lists only hosts that are neither done nor pending). */
export function hostTotal(p: Progress): number {
  return HOST_STATES.reduce((n, s) => n + (p.counts?.[s] ?? 0), 0);
}

export const manyHosts = (p: Progress): boolean => hostTotal(p) > MANY_HOSTS;

export function countsLine(p: Progress): string {
  return HOST_STATES.filter((s) => (p.counts?.[s] ?? 0) > 0)
    .map((s) => `${p.counts[s]} ${s}`)
    .join(', ');
}

/** "joinWorkers: 230/501 done, 20 running, 2 parked, 11.3/min, ETA 24m" */
export function summaryLine(p: Progress, phase: string, rate?: PhaseRate): string {
  const c = p.counts;
  const parts = [`${c.done}/${hostTotal(p)} done`];
  for (const s of ['running', 'parked', 'failed', 'skipped'] as const) if (c[s] > 0) parts.push(`${c[s]} ${s}`);
  if (rate && rate.overMs > 0) {
    parts.push(`${rate.perMinute.toFixed(1)}/min`);
    if (rate.etaMinutes !== undefined && c.pending + c.running > 0) parts.push(`ETA ${eta(rate.etaMinutes)}`);
  }
  return `${phase}: ${parts.join(', ')}`;
}

/** Counts per role and state, from a view that lists every host (the progress query's). */
function roleTable(p: Progress): string {
  const roles = [...new Set(p.hosts.map((h) => h.role))];
  const rows = [['ROLE', 'TOTAL', ...HOST_STATES.map((s) => s.toUpperCase())]];
  for (const r of roles) {
    const hs = p.hosts.filter((h) => h.role === r);
    rows.push([r, String(hs.length), ...HOST_STATES.map((s) => String(hs.filter((h) => h.state === s).length))]);
  }
  return table(rows);
}

/** The host part of `status` for a large cluster: counts, the hosts that need an operator by name, the running ones counted. */
export function largeClusterHosts(p: Progress, rate?: PhaseRate): string[] {
  const out: string[] = [];
  const running = p.phases.find((ph) => ph.state === 'running');
  if (running)
    out.push(
      summaryLine(p, running.name, rate && rate.phase === running.name ? rate : undefined) +
        (rate && rate.phase === running.name && rate.overMs > 0
          ? `  (rate over ${formatDuration(rate.overMs)} of the phase)`
          : ''),
    );
  const complete = p.hosts.length === hostTotal(p);
  out.push(
    complete
      ? roleTable(p)
      : `hosts: ${countsLine(p)} (done and pending hosts are counted, not listed, in the recorded progress)`,
  );
  const named = (state: HostState, title: string) => {
    const hs = p.hosts.filter((h) => h.state === state);
    if (hs.length === 0) return;
    out.push('', `${title} (${hs.length}):`, hostTable(hs));
  };
  named('failed', 'Failed');
  named('parked', 'Parked');
  // Counted from the counts: the memo lists only the first RUNNING_NAMED running hosts.
  const run = p.hosts.filter((h) => h.state === 'running');
  const nRunning = Math.max(p.counts.running, run.length);
  if (nRunning > 0) {
    const shown = run
      .slice(0, RUNNING_NAMED)
      .map((h) => h.name)
      .join(', ');
    out.push(
      '',
      `Running (${nRunning}): ${shown}${nRunning > RUNNING_NAMED ? `, … and ${nRunning - RUNNING_NAMED} more` : ''}`,
    );
  }
  named('skipped', 'Skipped');
  if (complete) out.push('', `(every host: kubeadm-ha status ${p.cluster} --hosts)`);
  return out;
}

/**
 * What `watch` says about host progress in a large cluster: at most one summary line every
 * `everyMs`, and only when the counts changed, with the rate over the phase as this watcher saw it.
 * Deterministic: the time comes with each call.
 */
export class HostSummary {
  private phase = '';
  /** The first and the latest (time, done) sample of the phase followed. */
  private samples: { t: number; done: number }[] = [];
  private lastAt = -Infinity;
  private lastKey = '';

  constructor(private readonly everyMs = 5000) {}

  /**
   * The summary line for this poll, if one is due: on the first sight of a running phase, then when
   * the counts changed and `everyMs` passed, and once more (whatever the time) when the phase followed
   * ends, then `ended` is set.
   */
  next(p: Progress, now: number): { line?: string; ended: boolean } {
    const running = p.phases.find((ph) => ph.state === 'running')?.name;
    const key = HOST_STATES.map((s) => p.counts[s]).join(',');
    const sample = { t: now, done: p.counts.done };
    const remaining = p.counts.pending + p.counts.running;
    if (this.phase && running !== this.phase) {
      const ended = this.phase;
      const line =
        key !== this.lastKey ? summaryLine(p, ended, rateOf(ended, [this.samples[0], sample], remaining)) : undefined;
      this.follow(running, sample, key, now);
      return { ...(line ? { line } : {}), ended: true };
    }
    if (!running) return { ended: false };
    if (!this.phase) {
      this.follow(running, sample, key, now);
      return { line: summaryLine(p, running), ended: false };
    }
    this.samples = [this.samples[0], sample];
    if (key === this.lastKey || now - this.lastAt < this.everyMs) return { ended: false };
    this.lastKey = key;
    this.lastAt = now;
    return { line: summaryLine(p, running, rateOf(running, this.samples, remaining)), ended: false };
  }

  private follow(phase: string | undefined, sample: { t: number; done: number }, key: string, now: number): void {
    this.phase = phase ?? '';
    this.samples = phase ? [sample] : [];
    this.lastKey = key;
    this.lastAt = now;
  }
}
