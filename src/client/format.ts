// Human-readable views of a run's progress, for `kubeadm-ha status` and `watch`. Pure.
import { HOST_STATES, RUNNING_NAMED, type HostProgress, type HostState, type ParkedStep, type Progress } from '../shared/definitions';

/**
 * Above this many hosts, `status` summarises (counts per state and role, the hosts that need an
 * operator by name, the running ones as a count) and `watch` prints one summary line per change of
 * counts instead of one line per host.
 */
export const MANY_HOSTS = 20;
/**
 * Phases that finish hosts on many at once, with the activity of their step: the ones a rate and an
 * ETA make sense for. (inspectHosts and distributeCerts leave their hosts running until the phase
 * ends, so their counts say nothing about what is left.)
 */
export const FAN_OUT_PHASES: Readonly<Record<string, string>> = { etcdCluster: 'buildEtcdMember', joinWorkers: 'joinNode' };

/** Every host the run knows, counted (the memo's compact view lists only hosts that are neither done nor pending). */
export function hostTotal(p: Progress): number {
  return HOST_STATES.reduce((n, s) => n + (p.counts?.[s] ?? 0), 0);
}

export const manyHosts = (p: Progress): boolean => hostTotal(p) > MANY_HOSTS;

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
export function rateOf(phase: string, samples: { t: number; done: number }[], remaining: number): PhaseRate | undefined {
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
export function rateFromHistory(phase: string, marks: HistoryMark[], remaining: number, now: number): PhaseRate | undefined {
  const step = FAN_OUT_PHASES[phase];
  const start = marks.find((m) => m.kind === 'phase' && m.phase === phase);
  if (!step || !start) return undefined;
  const done = marks.filter((m) => m.kind === 'completed' && m.activityType === step && m.t >= start.t).length;
  return rateOf(phase, [{ t: start.t, done: 0 }, { t: now, done }], remaining);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${String(s % 60).padStart(2, '0')}s` : ''}`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function eta(minutes: number): string {
  return minutes < 1 ? '<1m' : formatDuration(Math.round(minutes) * 60_000);
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

const hostRow = (h: HostProgress) => [h.name, h.role, h.address, h.state, h.detail ?? ''];
const HOST_HEADER = ['HOST', 'ROLE', 'ADDRESS', 'STATE', 'DETAIL'];

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
function hostSummary(p: Progress, rate?: PhaseRate): string[] {
  const out: string[] = [];
  const running = p.phases.find((ph) => ph.state === 'running');
  if (running) out.push(summaryLine(p, running.name, rate && rate.phase === running.name ? rate : undefined) +
    (rate && rate.phase === running.name && rate.overMs > 0 ? `  (rate over ${formatDuration(rate.overMs)} of the phase)` : ''));
  const complete = p.hosts.length === hostTotal(p);
  out.push(complete ? roleTable(p) : `hosts: ${countsLine(p)} (done and pending hosts are counted, not listed, in the recorded progress)`);
  const named = (state: HostState, title: string) => {
    const hs = p.hosts.filter((h) => h.state === state);
    if (hs.length === 0) return;
    out.push('', `${title} (${hs.length}):`, table([HOST_HEADER, ...hs.map(hostRow)]));
  };
  named('failed', 'Failed');
  named('parked', 'Parked');
  // Counted from the counts: the memo lists only the first RUNNING_NAMED running hosts.
  const run = p.hosts.filter((h) => h.state === 'running');
  const nRunning = Math.max(p.counts.running, run.length);
  if (nRunning > 0) {
    const shown = run.slice(0, RUNNING_NAMED).map((h) => h.name).join(', ');
    out.push('', `Running (${nRunning}): ${shown}${nRunning > RUNNING_NAMED ? `, … and ${nRunning - RUNNING_NAMED} more` : ''}`);
  }
  named('skipped', 'Skipped');
  if (complete) out.push('', `(every host: kubeadm-ha status ${p.cluster} --hosts)`);
  return out;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n');
}

export function countsLine(p: Progress): string {
  return HOST_STATES.filter((s) => (p.counts?.[s] ?? 0) > 0).map((s) => `${p.counts[s]} ${s}`).join(', ');
}

/** What the operator sees about a parked step, and the commands that resolve it. */
export function formatParked(cluster: string, p: ParkedStep): string[] {
  const out = [`${p.step} on ${p.host} (${p.role}) is parked since ${p.since} after ${p.attempts.length} attempt(s):`];
  for (const a of p.attempts) out.push(`    attempt ${a.attempt} at ${a.at}: ${a.error}`);
  if (p.retryWill?.length) {
    out.push('  a retry will:');
    p.retryWill.forEach((w, i) => out.push(`    ${i + 1}. ${w}`));
  }
  out.push('  decide with one of:');
  const what: Record<string, string> = {
    retry: p.retryWill?.length ? 'after fixing the host; does the above' : 'after fixing the host; a half-done node is reset first',
    skip: 'leave this worker out; the run ends "completed with skipped hosts"',
    abort: 'end the run here, leaving the hosts as they are',
  };
  for (const o of p.options) out.push(`    kubeadm-ha ${o} ${cluster} ${p.host} --as <your name> --reason "..."   # ${what[o]}`);
  return out;
}

export interface StatusOptions {
  /** Print the full host table even for a large cluster (`status --hosts`). */
  allHosts?: boolean;
  /** The running phase's rate, shown with a large cluster's summary. */
  rate?: PhaseRate;
}

export function formatProgress(p: Progress, workflowStatus: string, workflowId: string, opts: StatusOptions = {}): string {
  const out: string[] = [];
  out.push(`Cluster ${p.cluster}   workflow ${workflowId}   ${workflowStatus}`);
  out.push(`Status: ${p.status}${p.awaitingApproval ? ` — phase "${p.awaitingApproval}" waits for approval` : ''}   hosts: ${countsLine(p)}`);
  if (p.awaitingApproval) {
    out.push(`  approve: kubeadm-ha approve ${p.cluster} ${p.awaitingApproval} --as <your name> [--comment "..."]`);
    out.push(`  reject:  kubeadm-ha reject ${p.cluster} ${p.awaitingApproval} --as <your name> [--reason "..."]`);
  }
  for (const parked of p.parked ?? []) {
    out.push('');
    out.push(...formatParked(p.cluster, parked));
  }
  out.push('');
  out.push(table([['PHASE', 'STATE', 'WHAT'], ...p.phases.map((ph) => [ph.name, ph.state, ph.reason ? `${ph.title} (${ph.reason})` : ph.title])]));
  out.push('');
  if (manyHosts(p) && !opts.allHosts) out.push(...hostSummary(p, opts.rate));
  else out.push(table([HOST_HEADER, ...p.hosts.map(hostRow)]));
  if ((p.cleanups ?? []).length > 0) {
    out.push('');
    out.push('Clean-ups:');
    for (const c of p.cleanups) out.push(`  ${c.host} before ${c.step} at ${c.at}: ${c.detail}`);
  }
  if (p.decisions.length > 0) {
    out.push('');
    out.push('Decisions:');
    for (const d of p.decisions) {
      const what = d.host ? `${d.step} on ${d.host}` : d.phase;
      out.push(`  ${what}: ${d.verdict} by ${d.approver} at ${d.at}${d.comment ? ` — "${d.comment}"` : ''}`);
    }
  }
  if (p.lastError) {
    out.push('');
    out.push(`Last error: ${p.lastError}`);
  }
  return out.join('\n');
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
      const line = key !== this.lastKey ? summaryLine(p, ended, rateOf(ended, [this.samples[0], sample], remaining)) : undefined;
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

export interface WatchOptions {
  /** Large clusters: host progress as summary lines from this (per-host lines are dropped without it). */
  summary?: HostSummary;
  now?: number;
}

/**
 * One line per change worth telling while watching a run. With more than MANY_HOSTS hosts, host
 * progress is one summary line per change of counts (at most every few seconds) instead of one line
 * per host; parks, failures, clean-ups, phases and decisions are still told one by one.
 */
export function progressEvents(prev: Progress | undefined, next: Progress, opts: WatchOptions = {}): string[] {
  const many = manyHosts(next);
  const events: string[] = [];
  // In causal order: a decision, then the phases it let run, their hosts, then the next gate.
  for (const d of next.decisions.slice(prev?.decisions.length ?? 0)) {
    const what = d.host ? `${d.step} on ${d.host}` : d.phase;
    events.push(`${what} ${d.verdict} by ${d.approver}${d.comment ? ` — "${d.comment}"` : ''}`);
  }
  const phaseLines: string[] = [];
  for (const ph of next.phases) {
    const before = prev?.phases.find((x) => x.name === ph.name)?.state;
    if (before !== ph.state && ph.state !== 'pending') {
      phaseLines.push(`phase ${ph.name}: ${ph.state}  (${ph.reason ?? ph.title})`);
    }
  }
  if (many) {
    // The last word on a phase that just ended comes before the phase lines.
    const { line, ended } = opts.summary?.next(next, opts.now ?? Date.now()) ?? { ended: false };
    if (ended && line) events.push(line, ...phaseLines);
    else events.push(...phaseLines, ...(line ? [line] : []));
    const prevByName = new Map((prev?.hosts ?? []).map((h) => [h.name, h]));
    for (const h of next.hosts) {
      // Failures one by one (parks are told in full below).
      if (h.state === 'failed' && prevByName.get(h.name)?.state !== 'failed') events.push(`  ${h.name}: failed${h.detail ? ` — ${h.detail}` : ''}`);
    }
  } else {
    events.push(...phaseLines);
    for (const h of next.hosts) {
      const before = prev?.hosts.find((x) => x.name === h.name);
      if (h.state !== 'pending' && (before?.state !== h.state || before?.detail !== h.detail)) {
        events.push(`  ${h.name}: ${h.state}${h.detail ? ` — ${h.detail}` : ''}`);
      }
    }
  }
  for (const c of (next.cleanups ?? []).slice(prev?.cleanups?.length ?? 0)) events.push(`  ${c.host}: cleaned before ${c.step} — ${c.detail}`);
  for (const parked of next.parked ?? []) {
    if (!prev?.parked?.some((x) => x.key === parked.key)) events.push(...formatParked(next.cluster, parked));
  }
  if (next.awaitingApproval && prev?.awaitingApproval !== next.awaitingApproval) {
    events.push(`waiting for approval of "${next.awaitingApproval}"`);
  }
  if (next.lastError && next.lastError !== prev?.lastError) events.push(`error: ${next.lastError}`);
  return events;
}
