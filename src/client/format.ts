// Human-readable views of a run's progress, for `kubeadm-ha status` and `start --watch`. Pure.
import type { Progress } from '../shared/definitions';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n');
}

export function formatProgress(p: Progress, workflowStatus: string, workflowId: string): string {
  const out: string[] = [];
  out.push(`Cluster ${p.cluster}   workflow ${workflowId}   ${workflowStatus}`);
  out.push(`Status: ${p.status}${p.awaitingApproval ? ` — phase "${p.awaitingApproval}" waits for approval` : ''}`);
  if (p.awaitingApproval) {
    out.push(`  approve: kubeadm-ha approve ${p.cluster} ${p.awaitingApproval} --as <your name> [--comment "..."]`);
    out.push(`  reject:  kubeadm-ha reject ${p.cluster} ${p.awaitingApproval} --as <your name> [--reason "..."]`);
  }
  out.push('');
  out.push(table([['PHASE', 'STATE', 'WHAT'], ...p.phases.map((ph) => [ph.name, ph.state, ph.title])]));
  out.push('');
  out.push(table([['HOST', 'ROLE', 'ADDRESS', 'STATE', 'DETAIL'], ...p.hosts.map((h) => [h.name, h.role, h.address, h.state, h.detail ?? ''])]));
  if (p.decisions.length > 0) {
    out.push('');
    out.push('Decisions:');
    for (const d of p.decisions) {
      out.push(`  ${d.phase}: ${d.verdict} by ${d.approver} at ${d.at}${d.comment ? ` — "${d.comment}"` : ''}`);
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
    events.push(`${d.phase} ${d.verdict} by ${d.approver}${d.comment ? ` — "${d.comment}"` : ''}`);
  }
  for (const ph of next.phases) {
    const before = prev?.phases.find((x) => x.name === ph.name)?.state;
    if (before !== ph.state && ph.state !== 'pending') events.push(`phase ${ph.name}: ${ph.state}  (${ph.title})`);
  }
  for (const h of next.hosts) {
    const before = prev?.hosts.find((x) => x.name === h.name);
    if (h.state !== 'pending' && (before?.state !== h.state || before?.detail !== h.detail)) {
      events.push(`  ${h.name}: ${h.state}${h.detail ? ` — ${h.detail}` : ''}`);
    }
  }
  if (next.awaitingApproval && prev?.awaitingApproval !== next.awaitingApproval) {
    events.push(`waiting for approval of "${next.awaitingApproval}"`);
  }
  if (next.lastError && next.lastError !== prev?.lastError) events.push(`error: ${next.lastError}`);
  return events;
}
