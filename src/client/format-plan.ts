// `kubeadm-ha plan` as text: each phase with its hosts and actions (identical actions grouped, so a
// 5,000-worker plan stays readable), or why it is skipped; the gates; the facts' fingerprint.
import type { ClusterPlan, PlannedAction } from '../shared/plan';
import type { UpgradePlan } from '../workflows/plan-upgrade';
import { table } from './table';

/** Hosts named per group of identical actions before the rest are counted. */
const NAMED = 8;

export function formatPlan(p: ClusterPlan & { upgrade?: UpgradePlan['upgrade'] }): string {
  const out = [
    `Plan for cluster ${p.cluster} (Kubernetes ${p.kubernetesVersion}), from the hosts as they are now; nothing was changed.`,
    '',
  ];
  out.push(
    table([
      ['HOST', 'ROLE', 'STATE', 'KUBEADM', 'DETAIL'],
      ...p.hosts.map((h) => [h.name, h.role, h.state, h.kubeadmVersion ?? '-', h.detail ?? '']),
    ]),
  );
  out.push('', `Cluster: ${p.clusterRead}`, '');
  if (p.upgrade) {
    const u = p.upgrade;
    if (u.hops.length)
      out.push(
        `Upgrade from ${u.from} to ${p.kubernetesVersion}: ${u.hops.join(', then ')} (one minor at a time; a run per hop)`,
        '',
      );
    if (u.kubeadmPlan) out.push(u.kubeadmPlan, '');
    if (u.problem) out.push(`An upgrade cannot go on as the file stands: ${u.problem}`, '');
  }
  p.phases.forEach((ph, i) => {
    const gate = ph.gate && !ph.skip ? `   [waits for approval: ${ph.gate}]` : '';
    out.push(`${String(i + 1).padStart(2)}. ${ph.name}: ${ph.title}${ph.readOnly ? ' (read-only)' : ''}${gate}`);
    if (ph.skip) out.push(`      skipped: ${ph.skip}`);
    for (const line of groupActions(ph.actions ?? [])) out.push(`      ${line}`);
  });
  out.push(
    '',
    p.gates.length
      ? `A start asks for approval of: ${p.gates.join(', ')}`
      : 'A start asks for no approval (the cluster file lists none for the phases that run).',
  );
  if (p.nothingToDo)
    out.push('Nothing to do: the hosts and the cluster already match the cluster file; a start changes no host.');
  out.push(`Facts fingerprint: sha256:${p.fingerprint}`);
  return out.join('\n');
}

/** One line per host when they differ; one line per action with its hosts when many share it. */
export function groupActions(actions: PlannedAction[]): string[] {
  const groups = new Map<string, string[]>();
  for (const a of actions) groups.set(a.action, [...(groups.get(a.action) ?? []), a.host]);
  const width = Math.max(0, ...actions.map((a) => a.host.length));
  return [...groups.entries()].flatMap(([action, hosts]) => {
    if (hosts.length === 1) return [`${hosts[0].padEnd(width)}  ${action}`];
    const named = hosts.slice(0, NAMED).join(', ') + (hosts.length > NAMED ? ` and ${hosts.length - NAMED} more` : '');
    return [`${action}: ${named} (${hosts.length} hosts)`];
  });
}
