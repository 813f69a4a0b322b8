// Human-readable views of a run's progress, for `kubeadm-ha status` and `watch`. Pure.
// Rates are in ./rate, host counts and large-cluster summaries in ./host-counts, tables in ./table.
import type { ParkedStep, Progress } from '../shared/definitions';
import { countsLine, largeClusterHosts, manyHosts, type HostSummary } from './host-counts';
import type { PhaseRate } from './rate';
import { hostTable, table } from './table';

// src/client/commands.ts imports these from here.

/** What the operator sees about a parked step, and the commands that resolve it. */
export function formatParked(cluster: string, p: ParkedStep): string[] {
  const out = [`${p.step} on ${p.host} (${p.role}) is parked since ${p.since} after ${p.attempts.length} attempt(s):`];
  for (const a of p.attempts) out.push(`    attempt ${a.attempt} at ${a.at}: ${a.error}`);
  if (p.retryWill?.length) {
    out.push('  a retry will:');
    p.retryWill.forEach((w, i) => out.push(`    ${i + 1}. ${w}`));
  }
  out.push('  decide with one of:');
  const what: Record<ParkedStep['options'][number], string> = {
    retry: p.retryWill?.length
      ? 'after fixing the host; does the above'
      : 'after fixing the host; a half-done node is reset first',
    skip: 'leave this worker out; the run ends "completed with skipped hosts"',
    abort: 'end the run here, leaving the hosts as they are',
    'disable-eviction': 'drain again deleting the pods without asking their PodDisruptionBudgets',
  };
  for (const o of p.options)
    out.push(`    kubeadm-ha ${o} ${cluster} ${p.host} --as <your name> --reason "..."   # ${what[o]}`);
  return out;
}

export interface StatusOptions {
  /** Print the full host table even for a large cluster (`status --hosts`). */
  allHosts?: boolean;
  /** The running phase's rate, shown with a large cluster's summary. */
  rate?: PhaseRate;
}

export function formatProgress(
  p: Progress,
  workflowStatus: string,
  workflowId: string,
  opts: StatusOptions = {},
): string {
  const out: string[] = [];
  out.push(`Cluster ${p.cluster}   workflow ${workflowId}   ${workflowStatus}`);
  out.push(
    `Status: ${p.status}${p.awaitingApproval ? ` — phase "${p.awaitingApproval}" waits for approval` : ''}   hosts: ${countsLine(p)}`,
  );
  if (p.awaitingApproval) {
    out.push(`  approve: kubeadm-ha approve ${p.cluster} ${p.awaitingApproval} --as <your name> [--comment "..."]`);
    out.push(`  reject:  kubeadm-ha reject ${p.cluster} ${p.awaitingApproval} --as <your name> [--reason "..."]`);
  }
  for (const parked of p.parked ?? []) {
    out.push('');
    out.push(...formatParked(p.cluster, parked));
  }
  out.push('');
  out.push(
    table([
      ['PHASE', 'STATE', 'WHAT'],
      ...p.phases.map((ph) => [ph.name, ph.state, ph.reason ? `${ph.title} (${ph.reason})` : ph.title]),
    ]),
  );
  if (p.waves?.length) {
    // The waves' own progress and history: `temporal workflow show -w <id>`, or the Web UI under the run.
    const done = p.waves.filter((w) => w.state === 'done').length;
    const open = p.waves.filter((w) => w.state !== 'done').map((w) => `${w.id} (${w.hosts} hosts, ${w.state})`);
    out.push(`Waves: ${done} of ${p.waves.length} done${open.length ? `; ${open.join(', ')}` : ''}`);
  }
  out.push('');
  if (manyHosts(p) && !opts.allHosts) out.push(...largeClusterHosts(p, opts.rate));
  else out.push(hostTable(p.hosts));
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
      if (h.state === 'failed' && prevByName.get(h.name)?.state !== 'failed')
        events.push(`  ${h.name}: failed${h.detail ? ` — ${h.detail}` : ''}`);
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
  for (const c of (next.cleanups ?? []).slice(prev?.cleanups?.length ?? 0))
    events.push(`  ${c.host}: cleaned before ${c.step} — ${c.detail}`);
  for (const parked of next.parked ?? []) {
    if (!prev?.parked?.some((x) => x.key === parked.key)) events.push(...formatParked(next.cluster, parked));
  }
  if (next.awaitingApproval && prev?.awaitingApproval !== next.awaitingApproval) {
    events.push(`waiting for approval of "${next.awaitingApproval}"`);
  }
  if (next.lastError && next.lastError !== prev?.lastError) events.push(`error: ${next.lastError}`);
  return events;
}
