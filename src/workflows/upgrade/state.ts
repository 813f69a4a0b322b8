// The upgrade's state: each node's versions as inspection read them (the facts the phases plan
// from, frozen once it ends), the hops from the cluster's version to the file's, and what this run
// did: the backup, the nodes whose kubeadm part is done, the nodes upgraded.
import type { BinarySource } from '../../activities/binaries';
import type { BackupResult } from '../../activities/upgrade';
import type { ClusterSpec, HostSpec } from '../../config/types';
import { canonicalJson, sha256Hex } from '../../common/sha256';
import { compareKubeVersions, kubeVersionString, parseKubeVersion } from '../../kubeadm/version';
import { isMinorHop, upgradeHops, VERSIONED_COMPONENTS } from '../../kubeadm/upgrade';
import {
  nodeUpgradeState,
  type NodeUpgradeState,
  type NodeVersions,
  type UpgradeRole,
} from '../../kubeadm/upgrade-node';
import type { KubeadmHaActivities } from '../activities';
import type { BuildCluster } from '../build/cluster';
import type { HostModel } from '../engine/context';
import type { ResetPlan } from '../engine/steps';

export interface UpgradeFacts {
  versions: ReadonlyMap<string, NodeVersions>;
  /** The cluster's version: its oldest control-plane component. */
  from?: string;
  /** Each hop's exact version, one minor at a time, ending at the file's kubernetesVersion. */
  hops: string[];
}

/** The cluster's version from its control planes' static pods: the oldest component's. */
export function clusterVersion(c: BuildCluster, versions: ReadonlyMap<string, NodeVersions>): string | undefined {
  let oldest: string | undefined;
  for (const cp of c.spec.controlPlanes) {
    for (const comp of VERSIONED_COMPONENTS) {
      const tag = versions.get(cp.name)?.staticPods[comp];
      if (!tag || !/^v?\d+\.\d+\.\d+/.test(tag)) continue;
      if (!oldest || compareKubeVersions(parseKubeVersion(tag), parseKubeVersion(oldest)) < 0) oldest = tag;
    }
  }
  return oldest === undefined ? undefined : kubeVersionString(parseKubeVersion(oldest));
}

/**
 * The exact version of each hop from `from` to the file's version; an intermediate minor takes its
 * release from upgrade.through. Throws, naming the field, when one is missing.
 */
export function exactHops(spec: ClusterSpec, from: string): string[] {
  const through = spec.upgrade?.through ?? [];
  return upgradeHops(from, spec.kubernetesVersion).map((hop) => {
    if (!isMinorHop(hop)) return hop;
    const minor = parseKubeVersion(`${hop}.0`).minor;
    const given = through.find((t) => parseKubeVersion(t).minor === minor);
    if (!given)
      throw new Error(
        `upgrade.through: the upgrade from ${from} to ${spec.kubernetesVersion} passes through ${hop} (one minor at a time); ` +
          `name its release there, e.g. through: [${hop}.0]`,
      );
    return kubeVersionString(parseKubeVersion(given));
  });
}

/** Why an upgrade cannot start: the cluster file does not say how the new binaries reach the nodes. */
export const missingSourceProblem = (spec: ClusterSpec): string | undefined =>
  spec.upgrade?.binaries || spec.upgrade?.packages
    ? undefined
    : 'upgrade: the cluster file does not say how the new kubeadm, kubelet and kubectl reach the nodes: ' +
      'add upgrade.binaries (a folder on the worker) or upgrade.packages: apt; nothing was changed';

/** An upgrade plan an operator approved beforehand (kubeadm-ha upgrade --approved-plan): the run refuses to go on if the facts differ. */
export interface ApprovedPlan {
  fingerprint: string;
  approver: string;
  /** The versions each node had when the plan was made, to name what changed. */
  versions: Record<string, NodeVersions>;
}

/** The facts an upgrade plans from, hashed: the target, the upgrade section and every node's versions. */
export function upgradeFingerprint(spec: ClusterSpec, versions: ReadonlyMap<string, NodeVersions>): string {
  const nodes = [...versions.entries()].sort(([a], [b]) => a.localeCompare(b));
  return sha256Hex(canonicalJson({ kubernetesVersion: spec.kubernetesVersion, upgrade: spec.upgrade ?? null, nodes }));
}

/** What changed on the nodes since `approved` was read, one line per difference. */
export function driftOf(approved: Record<string, NodeVersions>, now: ReadonlyMap<string, NodeVersions>): string[] {
  const out: string[] = [];
  const show = (v: NodeVersions) => {
    const fields: [string, string | undefined][] = [
      ['kubeadm', v.kubeadm],
      ['kubelet', v.kubelet],
      ...Object.entries(v.staticPods).sort(([a], [b]) => a.localeCompare(b)),
    ];
    return new Map(fields.map(([k, x]) => [k, x ?? 'none']));
  };
  for (const host of [...new Set([...Object.keys(approved), ...now.keys()])].sort()) {
    const a = approved[host];
    const b = now.get(host);
    if (!a) out.push(`${host}: not in the approved plan`);
    else if (!b) out.push(`${host}: in the approved plan, not in this run`);
    else {
      const [x, y] = [show(a), show(b)];
      for (const k of new Set([...x.keys(), ...y.keys()]))
        if ((x.get(k) ?? 'none') !== (y.get(k) ?? 'none'))
          out.push(`${host}: ${k} ${x.get(k) ?? 'none'} -> ${y.get(k) ?? 'none'}`);
    }
  }
  return out;
}

export function upgradeRole(c: BuildCluster, h: HostSpec): UpgradeRole {
  if (h.name === c.firstCp.name) return 'first-control-plane';
  return c.roleOf(h) === 'worker' ? 'worker' : 'control-plane';
}

/** Where the node stands in the hop to `version`, as inspection read it. */
export function nodeStateIn(c: BuildCluster, facts: UpgradeFacts, h: HostSpec, version: string): NodeUpgradeState {
  const v = facts.versions.get(h.name);
  return v ? nodeUpgradeState(v, upgradeRole(c, h), version) : { step: 'blocked', detail: 'not inspected' };
}

export class UpgradeState implements HostModel {
  readonly versions = new Map<string, NodeVersions>();
  /** Nodes whose kubeadm part of this run's hop finished (a retry of the step goes on with the kubelet). */
  readonly kubeadmDone = new Set<string>();
  /** Nodes upgraded by this run, in order. */
  readonly upgraded: string[] = [];
  backup: BackupResult | undefined;
  /** The plan approved beforehand, if the run was started with one. */
  approvedPlan: ApprovedPlan | undefined;
  private gathered: UpgradeFacts | undefined;

  constructor(
    readonly c: BuildCluster,
    readonly acts: KubeadmHaActivities,
  ) {}

  facts(): UpgradeFacts {
    return this.gathered ?? { versions: new Map(), hops: [] };
  }

  freezeFacts(from: string | undefined, hops: string[]): void {
    this.gathered = { versions: new Map(this.versions), ...(from ? { from } : {}), hops };
  }

  /** This run's hop: the first (a run does one; the next run goes on with the rest). */
  get hop(): string | undefined {
    return this.facts().hops[0];
  }

  /** The upgrade workflow refuses a spec without one (missingSourceProblem) before it gets here. */
  get source(): BinarySource {
    const u = this.c.spec.upgrade;
    return u?.binaries ? { binaries: u.binaries } : { packages: 'apt' };
  }

  roleOf(h: HostSpec) {
    return this.c.roleOf(h);
  }

  /** An upgrade step decides from the node's versions what is left: nothing is cleaned first. */
  halfDone(): boolean {
    return false;
  }

  resetPlan(): () => ResetPlan {
    return () => ({ retryWill: ['the step again, from where the node stands'] });
  }

  finished(): void {}
}
