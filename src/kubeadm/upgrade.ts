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
import { UPGRADE_CONFIG } from './paths';
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
export function exactVersion(field: string, version: string): KubeVersion {
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
