// `kubeadm upgrade plan`'s text read: the upgrades kubeadm offers, from its stdout in every layout
// it has printed. Pure: no I/O.

import { sameVersion } from './upgrade-node';
// Its text (cmd/kubeadm/app/cmd/upgrade/plan.go), tables laid out by Go's text/tabwriter (minwidth 10,
// padding 3, ' '), in three eras:
//   1.13-1.18: COMPONENT CURRENT AVAILABLE; "Kubelet  N x vX" (a further version on a row whose
//              first cell is empty), "API Server", "Controller Manager", "Scheduler", "Kube Proxy",
//              "CoreDNS", "Etcd"; an external etcd in its own "External components" table;
//   1.19-1.29: the same with kubeadm's component names (kubelet, kube-apiserver, ...; #88854), and
//              TARGET for AVAILABLE from 1.21 (#98728);
//   1.30+:     COMPONENT NODE CURRENT TARGET, a row per node (#123578); kube-proxy's current version
//              without its "v" (the cluster version as k8s.io/apimachinery's version.String() gives it).
// Then "You can now apply the upgrade by executing the following command:" and, TAB-indented,
// `kubeadm upgrade apply vX.Y.Z` (plus --allow-*-upgrades for a pre-release), per available upgrade.

export interface PlanRow {
  /** kubeadm's name for it (the 1.19+ one: "API Server" is read as kube-apiserver). */
  component: string;
  /** 1.30+: the node it runs on (kubelet, kube-apiserver, ...); absent for cluster-wide components. */
  node?: string;
  /** Before 1.30: how many kubelets are at `current` ("3 x v1.28.5"). */
  count?: number;
  current: string;
  target: string;
}

export interface PlanUpgrade {
  /** "version in the v1.36 series", "stable version", ... (kubeadm's phases/upgrade/compute.go). */
  description: string;
  /** "Components that must be upgraded manually after ... 'kubeadm upgrade apply'": the kubelets. */
  manual: PlanRow[];
  /** "External components that should be upgraded manually before ...": an external etcd (1.13-1.18). */
  external: PlanRow[];
  /** What `kubeadm upgrade apply` upgrades. */
  components: PlanRow[];
  /** The version of "kubeadm upgrade apply vX.Y.Z" kubeadm proposes. */
  applyVersion: string;
  /** Flags kubeadm adds to that command (--allow-release-candidate-upgrades, --allow-experimental-upgrades). */
  applyFlags: string[];
  /** "Note: Before you can perform this upgrade, you have to update kubeadm to vX.Y.Z." */
  kubeadmFirst?: string;
}

export interface UpgradePlan {
  /** "[upgrade/versions] Cluster version: ..." */
  clusterVersion?: string;
  /** "[upgrade/versions] kubeadm version: ..." */
  kubeadmVersion?: string;
  /** Empty when kubeadm found nothing to upgrade ("Awesome, you're up-to-date! Enjoy!" up to 1.20, nothing since). */
  upgrades: PlanUpgrade[];
}

/** The 1.13-1.18 names (plan.go printAvailableUpgrades) and the ones kubeadm has used since. */
const PLAN_NAMES: Record<string, string> = {
  Kubelet: 'kubelet',
  'API Server': 'kube-apiserver',
  'Controller Manager': 'kube-controller-manager',
  Scheduler: 'kube-scheduler',
  'Kube Proxy': 'kube-proxy',
  'Kube DNS': 'kube-dns',
  Etcd: 'etcd',
};

/** A tabwriter row cut at its header's column starts; rows that do not fit are split on 2+ spaces. */
function cells(line: string, starts: number[], at: number): string[] {
  const aligned = starts.every((s, i) => i === 0 || line.length <= s || /\s/.test(line[s - 1]));
  if (aligned) return starts.map((s, i) => line.slice(s, starts[i + 1]).trim());
  const split = line.trim().split(/\s{2,}|\t+/);
  if (split.length !== starts.length) {
    throw new Error(`kubeadm upgrade plan: line ${at + 1} does not fit its table: ${JSON.stringify(line)}`);
  }
  return split;
}

/** The table whose header is the first non-blank line from `from` on, up to a blank line. */
function readPlanTable(lines: string[], from: number): { rows: PlanRow[]; end: number } {
  let h = from;
  while (h < lines.length && lines[h].trim() === '') h++;
  const header = lines[h] ?? '';
  const names = [...header.matchAll(/\S+/g)];
  const col = (n: string) => names.findIndex((m) => m[0] === n);
  const target = Math.max(col('TARGET'), col('AVAILABLE'));
  if (names[0]?.[0] !== 'COMPONENT' || col('CURRENT') < 0 || target < 0) {
    throw new Error(`kubeadm upgrade plan: expected a COMPONENT table at line ${h + 1}: ${JSON.stringify(header)}`);
  }
  const starts = names.map((m) => m.index!);
  const rows: PlanRow[] = [];
  let i = h + 1;
  for (; i < lines.length && lines[i].trim() !== ''; i++) {
    const c = cells(lines[i], starts, i);
    const component = PLAN_NAMES[c[0]] ?? (c[0] || rows.at(-1)?.component);
    if (!component) throw new Error(`kubeadm upgrade plan: line ${i + 1} names no component`);
    const counted = /^(\d+) x (\S+)$/.exec(c[col('CURRENT')]);
    const node = col('NODE') >= 0 ? c[col('NODE')] : '';
    rows.push({
      component,
      ...(node ? { node } : {}),
      ...(counted ? { count: Number(counted[1]) } : {}),
      current: counted ? counted[2] : c[col('CURRENT')],
      target: c[target],
    });
  }
  return { rows, end: i };
}

const APPLY_LINE = /^kubeadm upgrade apply (\S+)((?:\s+--\S+)*)$/;

/** The line before each table, and where its rows go ("Upgrade to the latest ..." names the upgrade). */
const PLAN_TABLES: ReadonlyArray<[RegExp, 'manual' | 'external' | 'components']> = [
  [/^Components that must be upgraded manually after/, 'manual'],
  [/^External components that should be upgraded manually before/, 'external'],
  [/^Upgrade to the latest (.+):$/, 'components'],
];

/** The `kubeadm upgrade apply` line after "You can now apply the upgrade ...", at or after `from`. */
function readApplyLine(lines: string[], from: number): { version: string; flags: string[]; end: number } {
  let j = from;
  while (j < lines.length && lines[j].trim() === '') j++;
  const cmd = APPLY_LINE.exec((lines[j] ?? '').trim());
  if (!cmd) throw new Error(`kubeadm upgrade plan: no "kubeadm upgrade apply" command at line ${j + 1}`);
  return { version: cmd[1], flags: cmd[2].trim() ? cmd[2].trim().split(/\s+/) : [], end: j };
}

type PartialUpgrade = Partial<PlanUpgrade> & Pick<PlanUpgrade, 'manual' | 'external' | 'components'>;

/**
 * The upgrades `kubeadm upgrade plan` offers, read from its stdout (any era, see above). Throws on
 * a text that has plan sections but not in kubeadm's layout, rather than guess.
 */
export function parseUpgradePlan(stdout: string): UpgradePlan {
  const lines = (stdout ?? '').replace(/\r\n?/g, '\n').split('\n');
  const plan: UpgradePlan = { upgrades: [] };
  let cur: PartialUpgrade = { manual: [], external: [], components: [] };
  const finish = (at: number) => {
    if (cur.description === undefined && cur.applyVersion === undefined && cur.manual.length === 0) return;
    if (cur.description === undefined || cur.applyVersion === undefined) {
      throw new Error(
        `kubeadm upgrade plan: the upgrade ending at line ${at + 1} lacks its table or its apply command`,
      );
    }
    plan.upgrades.push(cur as PlanUpgrade);
    cur = { manual: [], external: [], components: [] };
  };
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    const table = PLAN_TABLES.find(([re]) => re.test(t));
    let m: RegExpExecArray | null;
    if (table) {
      const [re, into] = table;
      if (into === 'components') cur.description = re.exec(t)![1];
      const r = readPlanTable(lines, i + 1);
      cur[into].push(...r.rows);
      i = r.end;
    } else if (t === 'You can now apply the upgrade by executing the following command:') {
      const r = readApplyLine(lines, i + 1);
      [cur.applyVersion, cur.applyFlags, i] = [r.version, r.flags, r.end];
    } else if ((m = /^\[upgrade\/versions\] (Cluster|kubeadm) version: (\S+)$/.exec(t))) {
      plan[m[1] === 'Cluster' ? 'clusterVersion' : 'kubeadmVersion'] = m[2];
    } else if ((m = /^Note: Before you can perform this upgrade, you have to update kubeadm to (\S+)\.$/.exec(t))) {
      cur.kubeadmFirst = m[1];
    } else if (/^_{20,}$/.test(t)) finish(i);
  }
  finish(lines.length - 1);
  return plan;
}

/**
 * The upgrade kubeadm offers to `version`, in one line: each component's versions ("kube-apiserver
 * v1.36.3 -> v1.37.2; etcd 3.6.8-0 -> 3.7.0-0"), a component shown once however many nodes run it.
 * Throws when kubeadm offers no upgrade to that version.
 */
export function planSummary(plan: UpgradePlan, version: string): string {
  const u = plan.upgrades.find((x) => sameVersion(x.applyVersion, version));
  if (!u) {
    const offered = plan.upgrades.map((x) => x.applyVersion).join(', ') || 'none';
    throw new Error(`kubeadm upgrade plan offers no upgrade to ${version} (it offers: ${offered})`);
  }
  const seen = new Map<string, string>();
  for (const r of [...u.components, ...u.manual]) {
    const line = `${r.component} ${r.current} -> ${r.target}`;
    if (![...seen.values()].includes(line)) seen.set(`${r.component} ${r.current}`, line);
  }
  return [...seen.values()].join('; ');
}
