// Human-readable views of a run's progress, for `kubeadm-ha status` and `watch`. Pure.
import { HOST_STATES, type ParkedStep, type Progress } from '../shared/definitions';

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
  out.push('  decide with one of:');
  const what: Record<string, string> = {
    retry: 'after fixing the host; a half-done node is reset first',
    skip: 'leave this worker out; the run ends "completed with skipped hosts"',
    abort: 'end the run here, leaving the hosts as they are',
  };
  for (const o of p.options) out.push(`    kubeadm-ha ${o} ${cluster} ${p.host} --as <your name> --reason "..."   # ${what[o]}`);
  return out;
}

export function formatProgress(p: Progress, workflowStatus: string, workflowId: string): string {
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
  out.push(table([['HOST', 'ROLE', 'ADDRESS', 'STATE', 'DETAIL'], ...p.hosts.map((h) => [h.name, h.role, h.address, h.state, h.detail ?? ''])]));
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

/** One line per change worth telling while watching a run. */
export function progressEvents(prev: Progress | undefined, next: Progress): string[] {
  const events: string[] = [];
  // In causal order: a decision, then the phases it let run, their hosts, then the next gate.
  for (const d of next.decisions.slice(prev?.decisions.length ?? 0)) {
    const what = d.host ? `${d.step} on ${d.host}` : d.phase;
    events.push(`${what} ${d.verdict} by ${d.approver}${d.comment ? ` — "${d.comment}"` : ''}`);
  }
  for (const ph of next.phases) {
    const before = prev?.phases.find((x) => x.name === ph.name)?.state;
    if (before !== ph.state && ph.state !== 'pending') events.push(`phase ${ph.name}: ${ph.state}  (${ph.reason ?? ph.title})`);
  }
  for (const h of next.hosts) {
    const before = prev?.hosts.find((x) => x.name === h.name);
    if (h.state !== 'pending' && (before?.state !== h.state || before?.detail !== h.detail)) {
      events.push(`  ${h.name}: ${h.state}${h.detail ? ` — ${h.detail}` : ''}`);
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
