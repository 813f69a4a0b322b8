// Upgrading a kubeadm cluster, as kubeadm's "Upgrading kubeadm clusters" page does it
// (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/): one minor at a time
// ("Skipping MINOR versions when upgrading is unsupported"), and per hop: the new kubeadm on the
// first control plane, `kubeadm upgrade plan` and `kubeadm upgrade apply` there, then on every other
// control plane and on the workers `kubeadm upgrade node`, each followed by the new kubelet.
//
// Per release (the old pages in kubernetes/website content/en/docs/tasks/administer-cluster/kubeadm/:
// kubeadm-upgrade-ha-1-13.md, kubeadm-upgrade-1-13.md, kubeadm-upgrade-1-14.md, kubeadm-upgrade-1-15.md):
//   - 1.13/1.14: other control planes `kubeadm upgrade node experimental-control-plane`, workers
//     `kubeadm upgrade node config --kubelet-version vX.Y.Z`; 1.15 merged both into `kubeadm upgrade
//     node` (kubernetes/kubernetes#78408, CHANGELOG-1.15), whose description says a secondary control
//     plane took both commands before ("`kubeadm upgrade node experimental-control-plane` and `kubeadm
//     upgrade node config` on secondary control-plane nodes"): experimental-control-plane only
//     rewrites the static pods (1.14 cmd/kubeadm/app/cmd/upgrade/node.go RunUpgradeControlPlane), so
//     the kubelet's config is downloaded by `node config` on those control planes too.
//   - `kubeadm upgrade apply vX.Y.Z --yes` with flags up to 1.30; before 1.31 its --config took an
//     InitConfiguration, a "legacy" reconfiguration the reference page advises against
//     (kubernetes/website#16703). From 1.31, kubeadm.k8s.io/v1beta4 has an UpgradeConfiguration
//     (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go), read by `--config` and mixable with --yes
//     (cmd/kubeadm/app/apis/kubeadm/validation/validation.go isAllowedFlag; kubernetes/kubernetes#125566).
//   - `--patches` on upgrade from 1.22 (kubernetes/kubernetes#103063), as patches.directory in the config.
// Pure: no I/O.
import { stringify } from 'yaml';
import { shellQuote } from '../common/shell-quote';
import { STATIC_PODS } from './host-facts';
import { MANIFESTS_DIR, UPGRADE_CONFIG } from './paths';
import { checkAbsolutePath, isPreflightCheckName } from './validate';
import {
  compareKubeVersions,
  configApiVersion,
  configFieldProblem,
  kubeVersionString,
  parseKubeVersion,
  supportedVersionProblem,
  type KubeVersion,
} from './version';

/** The static pods `kubeadm upgrade apply`/`node` rewrite to the target's images (etcd's tag is etcd's own version). */
export type StaticPodName = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'etcd';
/** The control-plane components whose image tag is the Kubernetes version. */
export const VERSIONED_COMPONENTS: readonly StaticPodName[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
];

const MINOR_HOP = /^v1\.(\d+)$/;
const vs = kubeVersionString;
const isPreRelease = (v: KubeVersion) => /^v?\d+\.\d+\.\d+-/.test(v.raw);

/** A released, supported version ("v1.36.3"): what kubeadm-ha installs and upgrades to. */
function exactVersion(field: string, version: string): KubeVersion {
  let v: KubeVersion;
  try {
    v = parseKubeVersion(version);
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`, { cause: e });
  }
  const problem = supportedVersionProblem(v);
  if (problem) throw new Error(`${field}: ${problem}`);
  if (isPreRelease(v)) {
    throw new Error(
      `${field}: ${vs(v)} is a pre-release; kubeadm refuses one without --allow-*-upgrades ` +
        '(cmd/kubeadm/app/phases/upgrade/policy.go) and kubeadm-ha upgrades to released versions only',
    );
  }
  return v;
}

/**
 * The versions a cluster at `from` passes through to reach `to`, one minor at a time
 * (kubeadm refuses more: MaximumAllowedMinorVersionUpgradeSkew = 1, phases/upgrade/policy.go). Each
 * intermediate hop is a minor only ("v1.36"): the caller picks its patch (the newest its package
 * repository has, as the upgrade page's "Determine which version to upgrade to" does); the last is
 * `to` itself. A patch upgrade is one hop; `from` equal to `to` is none. Refuses downgrades,
 * pre-releases and versions outside 1.13-1.37.
 */
export function upgradeHops(from: string, to: string): string[] {
  const a = exactVersion('from', from);
  const b = exactVersion('to', to);
  const order = compareKubeVersions(b, a);
  if (order < 0) {
    throw new Error(
      `refusing to downgrade from ${vs(a)} to ${vs(b)}: kubeadm-ha upgrades only (kubeadm's upgrade page has no way back)`,
    );
  }
  if (order === 0) return [];
  const hops: string[] = [];
  for (let minor = a.minor + 1; minor < b.minor; minor++) hops.push(`v1.${minor}`);
  return [...hops, vs(b)];
}

/** "v1.36": an intermediate hop whose patch the caller still has to choose. */
export const isMinorHop = (hop: string): boolean => MINOR_HOP.test(hop);

function checkNames(field: string, names: readonly string[] = []): string[] {
  return [
    ...new Set(
      names.map((c, i) => {
        if (!isPreflightCheckName(c)) {
          throw new Error(`${field}[${i}]: ${JSON.stringify(c)} is not one preflight check's name (never "all")`);
        }
        return c;
      }),
    ),
  ];
}

function patchesDir(v: KubeVersion, dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  const problem = configFieldProblem(v, 'patches.directory');
  if (problem) throw new Error(`kubeadm.patches: ${problem}; kubeadm ${vs(v)} upgrades take no patches`);
  return checkAbsolutePath('kubeadm.patches', dir);
}

const ignoreFlag = (names: string[]) => (names.length ? ` --ignore-preflight-errors=${names.join(',')}` : '');

/**
 * `kubeadm upgrade plan vX.Y.Z`, read-only, on the first control plane with the new kubeadm. The
 * version argument skips kubeadm's look-up of the newest release on the internet (the command's
 * help: "To skip the internet check, pass in the optional [version] parameter"). Its preflight
 * (root, CoreDNS migration) honours the same ignored checks as apply.
 */
export function upgradePlanCommand(version: string, opts: { ignorePreflightErrors?: string[] } = {}): string {
  const v = exactVersion('version', version);
  return `kubeadm upgrade plan ${vs(v)}${ignoreFlag(checkNames('ignorePreflightErrors', opts.ignorePreflightErrors))}`;
}

export interface UpgradeApplyOptions {
  /** Checks kubeadm may skip, each by name (the cluster file's kubeadm.ignorePreflightErrors); never "all". */
  ignorePreflightErrors?: string[];
  /** The patches directory on the node (the cluster file's kubeadm.patches), 1.22+: without it the upgrade drops the patches. */
  patches?: string;
  /** Where the UpgradeConfiguration is written (1.31+); UPGRADE_CONFIG when absent. */
  configPath?: string;
}

export interface UpgradeApplyStep {
  command: string;
  /** 1.31+: the UpgradeConfiguration the command reads; write it (root only) before running the command. */
  configFile?: { path: string; content: string };
}

/**
 * `kubeadm upgrade apply` on the first control plane, non-interactive (--yes), with kubeadm's checks
 * on (never --force, never --ignore-preflight-errors=all); --certificate-renewal and --etcd-upgrade
 * stay kubeadm's defaults (both true). 1.13-1.30: `kubeadm upgrade apply vX.Y.Z --yes` and flags;
 * 1.31+: `kubeadm upgrade apply --config <file> --yes` with renderUpgradeConfig's document.
 */
export function upgradeApplyCommand(version: string, opts: UpgradeApplyOptions = {}): UpgradeApplyStep {
  const v = exactVersion('version', version);
  const ignored = checkNames('ignorePreflightErrors', opts.ignorePreflightErrors);
  const patches = patchesDir(v, opts.patches);
  if (configApiVersion(v) === 'kubeadm.k8s.io/v1beta4') {
    const path = checkAbsolutePath('configPath', opts.configPath ?? UPGRADE_CONFIG);
    return {
      command: `kubeadm upgrade apply --config ${shellQuote(path)} --yes`,
      configFile: {
        path,
        content: renderUpgradeConfig({ kubernetesVersion: vs(v), ignorePreflightErrors: ignored, patches }),
      },
    };
  }
  const patchFlag = patches === undefined ? '' : ` --patches ${shellQuote(patches)}`;
  return { command: `kubeadm upgrade apply ${vs(v)} --yes${ignoreFlag(ignored)}${patchFlag}` };
}

/**
 * The UpgradeConfiguration (kubeadm.k8s.io/v1beta4, Kubernetes 1.31+) of `kubeadm upgrade apply`:
 * apply.kubernetesVersion (kubeadm reads the target from it when no version argument is given:
 * cmd/kubeadm/app/cmd/upgrade/apply.go newApplyData), apply.ignorePreflightErrors and
 * apply.patches.directory. Everything else is left to kubeadm's defaults.
 */
export function renderUpgradeConfig(input: {
  kubernetesVersion: string;
  ignorePreflightErrors?: string[];
  patches?: string;
}): string {
  const v = exactVersion('kubernetesVersion', input.kubernetesVersion);
  const apiVersion = configApiVersion(v);
  if (apiVersion !== 'kubeadm.k8s.io/v1beta4') {
    throw new Error(
      `kubernetesVersion: ${vs(v)} reads ${apiVersion}, which has no UpgradeConfiguration ` +
        '(it arrived in kubeadm.k8s.io/v1beta4, Kubernetes 1.31); its upgrade apply takes flags',
    );
  }
  const apply: Record<string, unknown> = { kubernetesVersion: vs(v) };
  const ignored = checkNames('ignorePreflightErrors', input.ignorePreflightErrors);
  if (ignored.length) apply.ignorePreflightErrors = ignored;
  const patches = patchesDir(v, input.patches);
  if (patches !== undefined) apply.patches = { directory: patches };
  return stringify({ apiVersion, kind: 'UpgradeConfiguration', apply }, { lineWidth: 0 });
}

/**
 * `kubeadm upgrade node` for a control plane other than the first, or a worker, run with the new
 * kubeadm after the first control plane's apply. 1.15+: `kubeadm upgrade node` (plus --patches, 1.22+);
 * 1.13/1.14: `experimental-control-plane` then `config --kubelet-version` on a control plane, `config
 * --kubelet-version` on a worker (see the head of this file). From 1.20 it runs a preflight phase
 * (`kubeadm upgrade node phase preflight`), which honours the named checks as init and join do;
 * before, it had no preflight to skip.
 */
export function upgradeNodeCommand(
  version: string,
  role: 'control-plane' | 'worker',
  opts: { patches?: string; ignorePreflightErrors?: string[] } = {},
): string {
  const v = exactVersion('version', version);
  const patches = patchesDir(v, opts.patches);
  const ignored = v.minor >= 20 ? checkNames('ignorePreflightErrors', opts.ignorePreflightErrors) : [];
  if (v.minor >= 15)
    return `kubeadm upgrade node${ignoreFlag(ignored)}${patches === undefined ? '' : ` --patches ${shellQuote(patches)}`}`;
  const config = `kubeadm upgrade node config --kubelet-version ${vs(v)}`;
  return role === 'control-plane' ? `kubeadm upgrade node experimental-control-plane && ${config}` : config;
}

// ---- `kubeadm upgrade plan` ----------------------------------------------------------------------
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

// ---- A node's own state ----------------------------------------------------------------------------
// What is left of a hop on one node, decided from what the node itself says (so a run resumes after
// any failure): the image tag of each static pod manifest in /etc/kubernetes/manifests (apply and
// upgrade node rewrite them: cmd/kubeadm/app/phases/upgrade/staticpods.go; a failed one rolls its
// components back from the backups, so a partly rolled-back control plane shows mixed tags), the
// kubelet's version (`kubelet --version`: "Kubernetes v1.36.3") and kubeadm's (`kubeadm version -o
// short`: "v1.36.3").

const PODS = STATIC_PODS as StaticPodName[];

/** What nodeVersionsCommand reports. */
export interface NodeVersions {
  /** `kubeadm version -o short`; absent when kubeadm is missing or failed. */
  kubeadm?: string;
  /** The version of `kubelet --version`; absent when the kubelet is missing or failed. */
  kubelet?: string;
  /** Per static pod manifest present: its image's tag ("v1.36.3"; etcd "3.6.8-0"), else the image as written. */
  staticPods: Partial<Record<StaticPodName, string>>;
}

/** Prints `kubeadm=`, `kubelet=` and `image.<component>=` for each manifest present, as key=value lines. */
export function nodeVersionsCommand(manifestsDir: string = MANIFESTS_DIR): string {
  const dir = shellQuote(checkAbsolutePath('manifestsDir', manifestsDir));
  return [
    'echo "kubeadm=$(kubeadm version -o short 2>/dev/null)"',
    'echo "kubelet=$(kubelet --version 2>/dev/null)"',
    `for c in ${PODS.join(' ')}; do f=${dir}/$c.yaml; if [ -e "$f" ]; then ` +
      `echo "image.$c=$(sed -n 's/^[[:space:]]*image:[[:space:]]*//p' "$f" | head -n 1)"; fi; done`,
  ].join('; ');
}

/** "v1.36.3" from `kubelet --version` ("Kubernetes v1.36.3"). */
export function parseKubeletVersion(stdout: string): string {
  const m = /^Kubernetes (v\d+\.\d+\.\d+\S*)$/.exec((stdout ?? '').trim());
  if (!m) throw new Error(`unrecognised kubelet --version output: ${JSON.stringify((stdout ?? '').slice(0, 80))}`);
  return m[1];
}

/** "v1.36.3" from `kubeadm version -o short`. */
export function parseKubeadmVersion(stdout: string): string {
  const out = (stdout ?? '').trim();
  if (!/^v\d+\.\d+\.\d+\S*$/.test(out)) {
    throw new Error(`unrecognised kubeadm version -o short output: ${JSON.stringify(out.slice(0, 80))}`);
  }
  return out;
}

/** The tag of an image reference ("registry.k8s.io/kube-apiserver:v1.36.3" -> "v1.36.3"), undefined without one. */
export function imageTag(image: string): string | undefined {
  const name = image.split('@')[0];
  const last = name.slice(name.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon >= 0 && colon < last.length - 1 ? last.slice(colon + 1) : undefined;
}

/** nodeVersionsCommand's output. Throws on a kubeadm or kubelet version it cannot read. */
export function parseNodeVersions(stdout: string): NodeVersions {
  const kv = new Map<string, string>();
  for (const line of (stdout ?? '').split('\n')) {
    const m = /^([a-z.-]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1], m[2].trim());
  }
  const staticPods: NodeVersions['staticPods'] = {};
  for (const c of PODS) {
    const image = kv.get(`image.${c}`)?.replace(/^(["'])(.*)\1$/, '$2');
    if (image !== undefined) staticPods[c] = imageTag(image) ?? image;
  }
  const kubeadm = kv.get('kubeadm');
  const kubelet = kv.get('kubelet');
  return {
    ...(kubeadm ? { kubeadm: parseKubeadmVersion(kubeadm) } : {}),
    ...(kubelet ? { kubelet: parseKubeletVersion(kubelet) } : {}),
    staticPods,
  };
}

export interface MixedControlPlane {
  /** Each versioned component's tag (etcd's too when present). */
  versions: Partial<Record<StaticPodName, string>>;
  /** "kube-apiserver at v1.37.2; kube-controller-manager, kube-scheduler at v1.36.3 (etcd 3.7.0-0)". */
  detail: string;
}

const sameVersion = (a: string, b: string) => a.replace(/^v/, '') === b.replace(/^v/, '');

/**
 * When the control plane's manifests name different Kubernetes versions (an apply or upgrade node
 * that failed and was rolled back partly, or stopped between components): which is at which, older
 * first. etcd's tag is its own version and only shown. Undefined when they agree.
 */
export function mixedControlPlane(staticPods: NodeVersions['staticPods']): MixedControlPlane | undefined {
  const groups: { version: string; components: StaticPodName[] }[] = [];
  for (const c of VERSIONED_COMPONENTS) {
    const v = staticPods[c];
    if (v === undefined) continue;
    const g = groups.find((x) => sameVersion(x.version, v));
    if (g) g.components.push(c);
    else groups.push({ version: v, components: [c] });
  }
  if (groups.length < 2) return undefined;
  const rank = (v: string) => {
    try {
      return parseKubeVersion(v);
    } catch {
      return undefined;
    }
  };
  groups.sort((a, b) => {
    const [x, y] = [rank(a.version), rank(b.version)];
    return x && y ? compareKubeVersions(x, y) : a.version.localeCompare(b.version);
  });
  const versions: MixedControlPlane['versions'] = {};
  for (const c of [...VERSIONED_COMPONENTS, 'etcd' as const])
    if (staticPods[c] !== undefined) versions[c] = staticPods[c];
  const etcd = staticPods.etcd === undefined ? '' : ` (etcd ${staticPods.etcd})`;
  return { versions, detail: groups.map((g) => `${g.components.join(', ')} at ${g.version}`).join('; ') + etcd };
}

/** The first control plane runs `kubeadm upgrade apply`; the other control planes and the workers `kubeadm upgrade node`. */
export type UpgradeRole = 'first-control-plane' | 'control-plane' | 'worker';

/** A node's next step in a hop, with what it was decided from (see nodeUpgradeState). */
export type NodeUpgradeState =
  | { step: 'kubeadm' | 'kubelet' | 'done' | 'blocked'; detail: string }
  | { step: 'apply' | 'upgrade-node'; detail: string; mixed?: MixedControlPlane };

/** A version a node reports, or why it cannot be read. */
function reported(what: string, v: string | undefined): KubeVersion | string {
  if (v === undefined) return `${what} reports no version`;
  try {
    return parseKubeVersion(v);
  } catch {
    return `${what} names no Kubernetes version (${JSON.stringify(v)})`;
  }
}

/** The oldest version among a control plane's versioned manifests, or why there is none. */
function controlPlaneVersion(staticPods: NodeVersions['staticPods']): KubeVersion | string {
  const missing = VERSIONED_COMPONENTS.filter((c) => staticPods[c] === undefined);
  if (missing.length) return `no static pod manifest for ${missing.join(', ')}: not a kubeadm control plane`;
  let oldest: KubeVersion | undefined;
  for (const c of VERSIONED_COMPONENTS) {
    const v = reported(`${c}'s image`, staticPods[c]);
    if (typeof v === 'string') return v;
    if (!oldest || compareKubeVersions(v, oldest) < 0) oldest = v;
  }
  return oldest!;
}

/**
 * What is left of the hop to `target` on a node, in the upgrade page's order: `kubeadm` (install
 * kubeadm `target`), then `apply` (first control plane) or `upgrade-node`, then `kubelet` (install
 * and restart it), then `done`; `blocked` when the node cannot take this hop (no control plane
 * manifests on a control plane, a version that cannot be read, or more than one minor behind).
 *
 * A control plane's apply/upgrade node is done when every versioned manifest is at `target` or
 * newer; mixed tags below it mean a re-run (kubeadm's upgrade is idempotent: the page's "Recovering
 * from a failure state"), with `mixed` naming them. A worker keeps nothing on disk that says
 * whether `kubeadm upgrade node` ran (it rewrites /var/lib/kubelet/config.yaml in place), so it is
 * `upgrade-node` until its kubelet is at `target`. Nor does the node say whether the first control
 * plane's apply got past its static pods (upload-config, addons): a caller records apply's success.
 */
export function nodeUpgradeState(node: NodeVersions, role: UpgradeRole, target: string): NodeUpgradeState {
  const t = exactVersion('target', target);
  const kubelet = reported('the kubelet', node.kubelet);
  if (typeof kubelet === 'string') return { step: 'blocked', detail: kubelet };
  const controlPlane = role === 'worker' ? undefined : controlPlaneVersion(node.staticPods);
  if (typeof controlPlane === 'string') return { step: 'blocked', detail: controlPlane };
  const lowest = controlPlane ?? kubelet;
  if (lowest.minor < t.minor - 1) {
    const what = controlPlane ? 'its control plane' : 'its kubelet';
    return {
      step: 'blocked',
      detail: `${what} is at ${vs(lowest)}: the hop to ${vs(t)} needs it at 1.${t.minor - 1} first (one minor at a time)`,
    };
  }
  const kubeletDone = compareKubeVersions(kubelet, t) >= 0;
  if (controlPlane && compareKubeVersions(controlPlane, t) >= 0) {
    return kubeletDone
      ? { step: 'done', detail: `control plane and kubelet at ${vs(t)} or newer` }
      : { step: 'kubelet', detail: `control plane at ${vs(controlPlane)}, kubelet at ${vs(kubelet)}` };
  }
  if (!controlPlane && kubeletDone) return { step: 'done', detail: `kubelet at ${vs(kubelet)}` };
  const kubeadm = reported('kubeadm', node.kubeadm);
  if (typeof kubeadm === 'string' || compareKubeVersions(kubeadm, t) !== 0) {
    const has = typeof kubeadm === 'string' ? kubeadm : `kubeadm ${vs(kubeadm)} is installed`;
    return { step: 'kubeadm', detail: `${has}; the hop to ${vs(t)} needs kubeadm ${vs(t)}` };
  }
  const step = role === 'first-control-plane' ? 'apply' : 'upgrade-node';
  const mixed = controlPlane ? mixedControlPlane(node.staticPods) : undefined;
  if (mixed) return { step, detail: `the control plane is mixed: ${mixed.detail}`, mixed };
  return { step, detail: `${controlPlane ? 'control plane' : 'kubelet'} at ${vs(lowest)}, kubeadm at ${vs(t)}` };
}

/**
 * The folders a `kubeadm upgrade apply`/`node` run backed up into, as its output names them
 * ("backing up old manifest to \"/etc/kubernetes/tmp/kubeadm-backup-manifests-<time>/kube-apiserver.yaml\"",
 * and the etcd data's kubeadm-backup-etcd-<time>: cmd/kubeadm/app/phases/upgrade/staticpods.go).
 */
export function kubeadmBackupDirs(output: string): string[] {
  return [...new Set((output ?? '').match(/\/etc\/kubernetes\/tmp\/kubeadm-backup-(?:manifests|etcd)-[0-9-]+/g) ?? [])];
}

/**
 * Why a failed `kubeadm upgrade apply`/`node` parks, for the operator: kubeadm's error, where each
 * component stands now (naming a mixed control plane), and where kubeadm kept what it replaced.
 */
export function upgradeFailureText(o: {
  host: string;
  what: string;
  why: string;
  /** The node's versions after the failure; undefined when they could not be read. */
  after?: NodeVersions;
  output: string;
}): string {
  const mixed = o.after ? mixedControlPlane(o.after.staticPods) : undefined;
  const pods = o.after ? Object.entries(o.after.staticPods).map(([c, v]) => `${c} ${v}`) : [];
  const at = !o.after
    ? 'its versions could not be read'
    : mixed
      ? `the control plane is mixed: ${mixed.detail}`
      : `its static pods: ${pods.join(', ') || 'none'}`;
  const dirs = kubeadmBackupDirs(o.output);
  const kept = dirs.length
    ? `kubeadm kept what it replaced in ${dirs.join(' and ')}`
    : 'kubeadm had replaced nothing yet (no kubeadm-backup-* folder in its output)';
  return `${o.host}: ${o.what} failed: ${o.why}. Now ${at}. ${kept}; retry runs it again (kubeadm's upgrade is idempotent), or abort`;
}
