// `kubeadm-ha upgrade --plan`: its own short workflow, like `plan`. It reads every node's versions
// with the activity an upgrade uses (two attempts each), and evaluates the upgrade's phase plans on
// them: the hops, each node's steps and where it stands, the backup, the gates. Nothing parks and
// nothing changes. Its fingerprint and the versions it read are what an operator approves with
// `kubeadm-ha upgrade --approved-plan`: that run refuses to go on if the cluster has drifted since.
import type { NodeVersions } from '../kubeadm/upgrade-node';
import type { ClusterSpec } from '../config/types';
import type { ClusterPlan, PlannedPhase } from '../shared/plan';
import { activitiesFor, type RetryTuning } from './activities';
import { BuildCluster } from './build/cluster';
import { mapWithLimit } from './engine/concurrency';
import { flatten, isSkipped } from './engine/phase';
import { failureOf } from './engine/steps';
import { checkPlanInput } from './input-check';
import { upgradePhases } from './upgrade/phases';
import {
  clusterVersion,
  exactHops,
  missingSourceProblem,
  nodeStateIn,
  upgradeFingerprint,
  UpgradeState,
} from './upgrade/state';

export interface PlanUpgradeInput {
  spec: ClusterSpec;
  retry?: RetryTuning;
}

export interface UpgradePlan extends ClusterPlan {
  upgrade: {
    from?: string;
    hops: string[];
    /** Why the upgrade cannot run as the file stands (a minor with no release in upgrade.through, a downgrade). */
    problem?: string;
    /** Each node's versions as read: what `--approved-plan` compares the cluster with. */
    versions: Record<string, NodeVersions>;
    /** kubeadm's own `upgrade plan` for the first hop, or when it will be asked. */
    kubeadmPlan?: string;
  };
}

export async function planUpgradeWorkflow(input: PlanUpgradeInput): Promise<UpgradePlan> {
  checkPlanInput(input);
  const c = new BuildCluster(input.spec);
  const s = new UpgradeState(c, activitiesFor({ maximumAttempts: 2, initialInterval: '1s', ...input.retry }));
  const nodes = [...c.spec.controlPlanes, ...c.spec.workers];
  const unreachable = new Map<string, string>();
  await mapWithLimit(nodes, c.spec.workerConcurrency, async (host) => {
    try {
      s.versions.set(host.name, await s.acts.readNodeVersions(c.at(host)));
    } catch (err) {
      unreachable.set(host.name, failureOf(err).message);
    }
  });
  const from = clusterVersion(c, s.versions);
  let hops: string[] = [];
  let problem: string | undefined = from
    ? undefined
    : 'no control plane has static pod manifests: there is no cluster to upgrade';
  if (from) {
    try {
      hops = exactHops(c.spec, from);
    } catch (e) {
      problem = (e as Error).message;
    }
  }
  if (unreachable.size)
    problem = `${[...unreachable.keys()].join(', ')} could not be read; an upgrade would park there`;
  problem = missingSourceProblem(c.spec) ?? problem;
  s.freezeFacts(from, hops);
  const facts = s.facts();
  // kubeadm's own plan needs the hop's kubeadm on the first control plane; a plan installs nothing.
  let kubeadmPlan: string | undefined;
  if (hops[0]) {
    const ignored = c.spec.kubeadm?.ignorePreflightErrors ?? [];
    kubeadmPlan =
      s.versions.get(c.firstCp.name)?.kubeadm === hops[0]
        ? await s.acts
            .readKubeadmUpgradePlan({
              ...c.at(c.firstCp),
              version: hops[0],
              ...(ignored.length ? { ignorePreflightErrors: ignored } : {}),
            })
            .catch((err) => `kubeadm upgrade plan could not be asked: ${failureOf(err).message}`)
        : `kubeadm upgrade plan ${hops[0]} runs on ${c.firstCp.name} once kubeadm ${hops[0]} is installed there, right before the apply; what it offers is in that step's detail`;
  }
  const phases = flatten(upgradePhases(c)).map((p): PlannedPhase => {
    const plan = p.plan(facts);
    return {
      name: p.name,
      title: p.title,
      ...(p.gate ? { gate: p.gate } : {}),
      ...(p.readOnly ? { readOnly: true } : {}),
      ...(isSkipped(plan) ? { skip: plan.skip } : { actions: plan.actions }),
    };
  });
  const hop = hops[0] ?? c.spec.kubernetesVersion;
  return {
    cluster: c.spec.name,
    kubernetesVersion: c.spec.kubernetesVersion,
    phases,
    gates: phases.filter((p) => p.gate && !p.skip).map((p) => p.gate!),
    nothingToDo: hops.length === 0 && !problem,
    hosts: nodes.map((h) => {
      const v = s.versions.get(h.name);
      const why = unreachable.get(h.name);
      const at = v ? nodeStateIn(c, facts, h, hop) : undefined;
      return {
        name: h.name,
        role: c.roleOf(h),
        state: v ? `kubelet ${v.kubelet ?? 'missing'}` : 'unreachable',
        ...(why ? { detail: why } : at ? { detail: `next: ${at.step} (${at.detail})` } : {}),
        ...(v?.kubeadm ? { kubeadmVersion: v.kubeadm } : {}),
      };
    }),
    clusterRead: from ? `the control planes run ${from}` : 'no control plane was read',
    fingerprint: upgradeFingerprint(c.spec, s.versions),
    upgrade: {
      ...(from ? { from } : {}),
      hops,
      ...(problem ? { problem } : {}),
      versions: Object.fromEntries(s.versions),
      ...(kubeadmPlan ? { kubeadmPlan } : {}),
    },
  };
}
