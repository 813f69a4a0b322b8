// Upgrading the cluster one minor at a time, as kubeadm's "Upgrading kubeadm clusters" page orders
// a hop: back up etcd and /etc/kubernetes; on the first control plane the new kubeadm and `kubeadm
// upgrade apply`; then each other control plane, one at a time, with `kubeadm upgrade node`; then
// the workers in batches. On every node, after kubeadm: drain, the new kubelet and kubectl, the
// kubelet restarted, uncordon. One approval, with the plan, comes before anything changes.
import { ApplicationFailure } from '@temporalio/workflow';
import type { HostSpec } from '../../config/types';
import { backupDir, PKI_ARCHIVE, SNAPSHOT_FILE, workerBatchSize } from '../../kubeadm/upgrade-install';
import { isBuiltEtcd } from '../../config/types';
import { quorumOf } from '../../kubeadm/etcd';
import type { PhaseContext } from '../engine/context';
import type { HostAction, Phase, PhasePlan } from '../engine/phase';
import type { BuildCluster } from '../build/cluster';
import {
  clusterVersion,
  driftOf,
  exactHops,
  nodeStateIn,
  upgradeFingerprint,
  upgradeRole,
  type UpgradeFacts,
  type UpgradeState,
} from './state';

type UpgradePhase = Phase<UpgradeFacts, UpgradeState>;

/** A node's steps in a hop, in words, as the plan prints them. */
function nodeSteps(c: BuildCluster, facts: UpgradeFacts, h: HostSpec, hop: string): string {
  const role = upgradeRole(c, h);
  const node = nodeStateIn(c, facts, h, hop);
  const kubeadm = node.step === 'kubeadm' ? [`install kubeadm ${hop}`] : [];
  const upgrade =
    node.step === 'kubeadm' || node.step === 'apply' || node.step === 'upgrade-node'
      ? [role === 'first-control-plane' ? `kubeadm upgrade apply ${hop}` : 'kubeadm upgrade node']
      : [];
  return (
    [
      ...kubeadm,
      ...upgrade,
      'drain',
      `install kubelet and kubectl ${hop}`,
      'restart the kubelet',
      'wait for Ready at the new version',
      'uncordon',
    ].join(', ') +
    ` (now: ${node.detail})` +
    (role !== 'worker' && c.stacked ? `; ${etcdMargin(c, facts)}` : '')
  );
}

/**
 * A stacked control plane's etcd member restarts with its upgraded static pod (kubeadm upgrades etcd
 * with the other components): the others must keep a quorum meanwhile. From the members inspection
 * found (a control plane with an etcd manifest).
 */
function etcdMargin(c: BuildCluster, facts: UpgradeFacts): string {
  const members = c.spec.controlPlanes.filter((h) => facts.versions.get(h.name)?.staticPods.etcd !== undefined).length;
  const q = quorumOf(members);
  const up = members - 1;
  return up >= q
    ? `etcd: ${members} members, quorum ${q}; ${up} stay up while its member restarts (margin ${up - q})`
    : `etcd: ${members} members, quorum ${q}; while its member restarts etcd has no quorum (${up} up): the API is down until it is back`;
}

function planNodes(c: BuildCluster, facts: UpgradeFacts, hosts: HostSpec[], none: string): PhasePlan {
  const hop = facts.hops[0];
  if (!hop) return { skip: "every node is at the cluster file's version: nothing to upgrade" };
  const todo = hosts.filter((h) => nodeStateIn(c, facts, h, hop).step !== 'done');
  if (!todo.length) return { skip: none };
  return {
    hosts: todo,
    actions: todo.map((h): HostAction => ({ host: h.name, role: c.roleOf(h), action: nodeSteps(c, facts, h, hop) })),
  };
}

const upgradeOn = (c: BuildCluster, ctx: PhaseContext<UpgradeState>, hosts: HostSpec[], limit: number) => {
  const s = ctx.state;
  const hop = s.hop!;
  const kubeadm = c.spec.kubeadm;
  return ctx.onHosts(hosts, {
    step: 'upgradeNode',
    limit,
    last: true,
    // A drain a PodDisruptionBudget stopped may also go on without eviction, if an operator says so.
    parkOptions: (type, host) =>
      type !== 'DrainBlocked'
        ? undefined
        : c.roleOf(host) === 'worker'
          ? ['retry', 'disable-eviction', 'skip', 'abort']
          : ['retry', 'disable-eviction', 'abort'],
    run: (host) => async (stepId) => {
      const parts: string[] = [];
      if (!s.kubeadmDone.has(host.name)) {
        const r = await s.acts.upgradeKubeadm({
          ...c.at(host),
          stepId,
          role: upgradeRole(c, host),
          version: hop,
          source: s.source,
          ...(kubeadm?.ignorePreflightErrors.length ? { ignorePreflightErrors: kubeadm.ignorePreflightErrors } : {}),
          ...(kubeadm?.patches ? { patches: kubeadm.patches } : {}),
        });
        s.kubeadmDone.add(host.name);
        parts.push(r.detail);
      }
      const forced = ctx.choiceOn(host.name, 'disable-eviction');
      const k = await s.acts.upgradeKubelet({
        ...c.at(host),
        stepId,
        version: hop,
        source: s.source,
        via: c.firstCp,
        ...(c.roleOf(host) === 'control-plane' ? { controlPlane: true } : {}),
        ...(forced ? { disableEviction: { approvedBy: forced } } : {}),
      });
      parts.push(k.detail);
      s.upgraded.push(host.name);
      return parts.join('; ');
    },
  });
};

export const upgradePhases = (c: BuildCluster): UpgradePhase[] => {
  const nodes = [...c.spec.controlPlanes, ...c.spec.workers];
  const builtEtcd = c.spec.etcd && isBuiltEtcd(c.spec.etcd) ? c.spec.etcd.hosts[0] : undefined;
  return [
    {
      name: 'inspectHosts',
      title: 'Read the versions of kubeadm, the kubelet and the static pods on every node',
      readOnly: true,
      plan: () => ({
        hosts: nodes,
        actions: nodes.map((h) => ({ host: h.name, role: c.roleOf(h), action: 'read versions (read-only)' })),
      }),
      run: async (ctx, hosts) => {
        const s = ctx.state;
        await ctx.onHosts(hosts, {
          step: 'readNodeVersions',
          limit: c.spec.workerConcurrency,
          run: (host) => async () => {
            const v = await s.acts.readNodeVersions(c.at(host));
            s.versions.set(host.name, v);
            const pods = Object.entries(v.staticPods).map(([k, t]) => `${k} ${t}`);
            return `kubeadm ${v.kubeadm ?? 'missing'}, kubelet ${v.kubelet ?? 'missing'}${pods.length ? `, ${pods.join(', ')}` : ''}`;
          },
        });
        const from = clusterVersion(c, s.versions);
        if (!from)
          throw ApplicationFailure.create({
            type: 'UpgradeRefused',
            nonRetryable: true,
            message: `${c.firstCp.name}: no control plane has kubeadm's static pod manifests: there is no cluster to upgrade (build it with start)`,
          });
        let hops: string[];
        try {
          hops = exactHops(c.spec, from);
        } catch (e) {
          throw ApplicationFailure.create({
            type: 'UpgradeRefused',
            nonRetryable: true,
            message: (e as Error).message,
          });
        }
        s.freezeFacts(from, hops);
        const approved = s.approvedPlan;
        if (approved && upgradeFingerprint(c.spec, s.versions) !== approved.fingerprint) {
          const drift = driftOf(approved.versions, s.versions);
          throw ApplicationFailure.create({
            type: 'PlanDrift',
            nonRetryable: true,
            message:
              `the cluster is not as the plan ${approved.fingerprint.slice(0, 16)}… approved by ${approved.approver} found it; nothing was changed. ` +
              (drift.length
                ? `Changed: ${drift.join('; ')}`
                : "The nodes are as they were: the cluster file's kubernetesVersion or upgrade section changed") +
              '. Make a new plan (kubeadm-ha upgrade --plan) and approve that',
          });
        }
      },
    },
    {
      name: 'approveUpgrade',
      title: "Approve the upgrade: its hops, each node's steps, the backup",
      gate: 'upgrade',
      readOnly: true,
      plan: (facts) =>
        facts.hops.length
          ? {
              hosts: [],
              actions: [
                {
                  host: c.firstCp.name,
                  role: 'control-plane',
                  action: `upgrade from ${facts.from} to ${c.spec.kubernetesVersion}: hops ${facts.hops.join(' then ')}, this run ${facts.hops[0]}`,
                },
              ],
            }
          : { skip: `every control plane is at ${facts.from ?? "the file's version"}: nothing to upgrade` },
      run: async () => undefined,
    },
    {
      name: 'backupCluster',
      title: 'Back up etcd (a snapshot), /etc/kubernetes/pki and the manifests before the hop',
      plan: (facts) => {
        const hop = facts.hops[0];
        if (!hop) return { skip: 'nothing to upgrade' };
        const state = facts.versions.get(c.firstCp.name);
        const cpDone = state && clusterVersion(c, new Map([[c.firstCp.name, state]])) === hop;
        if (cpDone)
          return { skip: `${c.firstCp.name} is at ${hop} already: the hop's backup was taken before its apply` };
        const etcd = c.stacked
          ? `${SNAPSHOT_FILE} (etcdctl snapshot save in etcd-${c.firstCp.name})`
          : builtEtcd
            ? `${SNAPSHOT_FILE} on ${builtEtcd.name}`
            : "no etcd snapshot: the external etcd is not kubeadm-ha's; snapshot it yourself";
        return {
          hosts: [c.firstCp],
          actions: [
            { host: c.firstCp.name, role: 'control-plane', action: `${etcd}; ${PKI_ARCHIVE}; in ${backupDir(hop)}` },
          ],
        };
      },
      run: async (ctx) => {
        const s = ctx.state;
        const r = await ctx.onFirst('backupCluster', (stepId) =>
          s.acts.backupCluster({
            ...c.at(c.firstCp),
            stepId,
            version: s.hop!,
            stacked: c.stacked,
            ...(builtEtcd ? { etcdHost: builtEtcd } : {}),
          }),
        );
        if (typeof r === 'object') {
          s.backup = r;
          ctx.progress.setHost(c.firstCp.name, 'running', r.detail);
        }
      },
    },
    {
      name: 'upgradeFirstControlPlane',
      title: 'The first control plane: kubeadm upgrade apply, then its kubelet',
      plan: (facts) => planNodes(c, facts, [c.firstCp], `${c.firstCp.name} is upgraded`),
      run: (ctx, hosts) => upgradeOn(c, ctx, hosts, 1),
    },
    {
      name: 'upgradeControlPlanes',
      title: 'The other control planes, one at a time: kubeadm upgrade node, then the kubelet',
      plan: (facts) => planNodes(c, facts, c.otherCps, 'every other control plane is upgraded'),
      run: (ctx, hosts) => upgradeOn(c, ctx, hosts, 1),
    },
    {
      name: 'upgradeWorkers',
      title: `The workers, ${batchWords(c)}: kubeadm upgrade node, then the kubelet`,
      plan: (facts) => planNodes(c, facts, c.spec.workers, 'every worker is upgraded'),
      run: (ctx, hosts) =>
        upgradeOn(c, ctx, hosts, workerBatchSize(c.spec.upgrade?.workerBatch ?? 1, c.spec.workers.length)),
    },
  ];
};

const batchWords = (c: BuildCluster) => {
  const n = workerBatchSize(c.spec.upgrade?.workerBatch ?? 1, c.spec.workers.length);
  return n === 1 ? 'one at a time' : `at most ${n} at a time`;
};
