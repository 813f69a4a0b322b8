// The upgrade's activities, in the order of kubeadm's "Upgrading kubeadm clusters" page
// (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/): read a node's
// versions; back up etcd, the certificates and the manifests before a hop; on each node the new
// kubeadm and `kubeadm upgrade apply` (first control plane) or `kubeadm upgrade node`; then drain,
// the new kubelet and kubectl, the kubelet restarted, uncordon. Each change runs journaled under the
// host lock, so a retry from any worker re-attaches to a running `upgrade apply` instead of starting
// a second one; and each activity first reads where the node stands, so a new run goes on from there.
import type { HostSpec } from '../config/types';
import { uncordonCommand } from '../kubeadm/drain';
import { KUBECTL } from '../kubeadm/paths';
import { upgradeApplyCommand, upgradeNodeCommand, upgradePlanCommand } from '../kubeadm/upgrade';
import {
  nodeUpgradeState,
  nodeVersionsCommand,
  parseNodeVersions,
  upgradeFailureText,
  type NodeVersions,
  type UpgradeRole,
} from '../kubeadm/upgrade-node';
import { parseUpgradePlan, planSummary } from '../kubeadm/upgrade-plan';
import {
  backupCommand,
  backupDir,
  apiServerReadyCommand,
  KUBELET_RESTART,
  nodeStatusCommand,
  parseNodeStatus,
  parseSha256sum,
  SNAPSHOT_FILE,
} from '../kubeadm/upgrade-install';
import { type BinarySource, install } from './binaries';
import { drain } from './drain';
import { type Remote, withSessions } from './host-context';
import { commandOutcome, kubeadmFailure, refuse } from './kubeadm-failure';
import type { Journaled, OnHost, StepResult } from './types';

export const readNodeVersions = async ({ host, ssh }: OnHost): Promise<NodeVersions> =>
  withSessions(ssh, [host], async (node) =>
    parseNodeVersions(
      (await node.check(nodeVersionsCommand(), 'reading the versions of kubeadm, the kubelet and the static pods'))
        .stdout,
    ),
  );

/**
 * `kubeadm upgrade plan vX.Y.Z` on the first control plane, read-only, for `upgrade --plan`: what
 * kubeadm offers, in one line, or why it refuses. Only asked where kubeadm vX.Y.Z is installed.
 */
export const readKubeadmUpgradePlan = async ({
  host,
  ssh,
  version,
  ignorePreflightErrors,
}: OnHost & { version: string; ignorePreflightErrors?: string[] }): Promise<string> =>
  withSessions(ssh, [host], async (node) => {
    node.step(`kubeadm upgrade plan ${version}`);
    const r = await node.run(upgradePlanCommand(version, { ignorePreflightErrors }));
    if (r.exitCode !== 0)
      return `kubeadm upgrade plan on ${host.name} refuses: ${
        kubeadmFailure(host.name, 'kubeadm upgrade plan', { exitCode: r.exitCode, output: `${r.stdout}\n${r.stderr}` })
          .failure.summary
      }`;
    return planLine(r.stdout, version);
  });

export interface BackupResult extends StepResult {
  dir: string;
  /** File name to SHA-256, as sha256sum printed them on the host. */
  sha256: Record<string, string>;
}

/**
 * The backup before the hop to `version`, on the first control plane: an etcd snapshot (stacked:
 * through its etcd pod; external etcd kubeadm-ha built: on `etcdHost` with its etcdctl), then
 * /etc/kubernetes/pki and the manifests.
 */
export const backupCluster = async ({
  host,
  ssh,
  stepId,
  version,
  etcdHost,
  stacked,
}: OnHost & Journaled & { version: string; stacked: boolean; etcdHost?: HostSpec }): Promise<BackupResult> => {
  const dir = backupDir(version);
  const run = async (node: Remote, id: string, etcd: Parameters<typeof backupCommand>[1], archive: boolean) => {
    node.step(
      `backing up ${[etcd ? 'etcd' : '', archive ? '/etc/kubernetes/pki and the manifests' : ''].filter(Boolean).join(', ')} to ${dir}`,
    );
    const o = await node.journaled({ id, command: backupCommand(version, etcd, archive) });
    commandOutcome(node.host.name, 'the backup before the upgrade', o);
    return parseSha256sum(o.output);
  };
  // An external etcd's snapshot is taken on its host; the certificates and manifests are the first control plane's.
  const snapshot =
    !stacked && etcdHost
      ? await withSessions(ssh, [etcdHost], (node) =>
          run(node, `${stepId}-etcd`, { etcdHost: etcdHost.address }, false),
        )
      : {};
  const sha256 = {
    ...snapshot,
    ...(await withSessions(ssh, [host], (node) =>
      run(node, stepId, stacked ? { stackedNode: host.name } : undefined, true),
    )),
  };
  const where = (f: string) => (f === SNAPSHOT_FILE && !stacked && etcdHost ? etcdHost.name : host.name);
  return {
    host: host.name,
    alreadyDone: false,
    dir,
    sha256,
    detail: `backup in ${dir}: ${Object.entries(sha256)
      .map(([f, d]) => `${where(f)}:${f} sha256:${d.slice(0, 16)}…`)
      .join(', ')}`,
  };
};

const versionsOf = async (node: Remote) =>
  parseNodeVersions((await node.check(nodeVersionsCommand(), 'reading the node versions')).stdout);

export interface UpgradeOptions {
  role: UpgradeRole;
  /** The hop's version: "v1.37.2". */
  version: string;
  source: BinarySource;
  ignorePreflightErrors?: string[];
  patches?: string;
}

/**
 * The kubeadm part of a hop on one node: the new kubeadm, then `kubeadm upgrade apply` (first
 * control plane) or `kubeadm upgrade node`. Done already when the node's static pods (a control
 * plane) or its kubelet (a worker) are at the version. A failed apply parks, naming each component's
 * version and kubeadm's backup folder.
 */
export const upgradeKubeadm = async ({
  host,
  ssh,
  stepId,
  role,
  version,
  source,
  ignorePreflightErrors,
  patches,
}: OnHost & Journaled & UpgradeOptions): Promise<StepResult> =>
  withSessions(ssh, [host], async (node): Promise<StepResult> => {
    let state = nodeUpgradeState(await versionsOf(node), role, version);
    if (state.step === 'blocked') throw refuse('UpgradeBlocked', `${host.name}: ${state.detail}`);
    if (state.step === 'done' || state.step === 'kubelet')
      return { host: host.name, alreadyDone: true, detail: `kubeadm part done: ${state.detail}` };
    const done: string[] = [];
    if (state.step === 'kubeadm') {
      await install(node, `${stepId}-kubeadm`, ['kubeadm'], version, source, ssh.privateKeyFile);
      state = nodeUpgradeState(await versionsOf(node), role, version);
      if (state.step === 'kubeadm')
        throw refuse('UpgradeFailed', `${host.name}: kubeadm ${version} was installed, yet ${state.detail}`);
      done.push(`kubeadm ${version} installed`);
    }
    if (state.step !== 'apply' && state.step !== 'upgrade-node')
      return { host: host.name, alreadyDone: done.length === 0, detail: [...done, state.detail].join('; ') };
    const apply = state.step === 'apply' ? upgradeApplyCommand(version, { ignorePreflightErrors, patches }) : undefined;
    // The page runs `kubeadm upgrade plan` right before the apply. It is part of the journaled command,
    // so a retry that finds the apply running attaches to it instead of planning beside it.
    const command = apply
      ? `${upgradePlanCommand(version, { ignorePreflightErrors })} && echo ${PLAN_END} && ${apply.command}`
      : upgradeNodeCommand(version, role === 'worker' ? 'worker' : 'control-plane', { patches, ignorePreflightErrors });
    const what = apply ? `kubeadm upgrade apply ${version}` : 'kubeadm upgrade node';
    node.step(what);
    const o = await node.journaled({
      id: `${stepId}-${apply ? 'apply' : 'node'}`,
      command,
      ...(apply?.configFile ? { input: { path: apply.configFile.path, content: apply.configFile.content } } : {}),
    });
    const planned = apply ? o.output.split(`\n${PLAN_END}\n`) : [];
    if (apply && planned.length < 2) {
      const why = o.state === 'finished' ? `exit ${o.exitCode}` : o.state;
      throw refuse(
        'UpgradeFailed',
        `${host.name}: kubeadm upgrade plan ${version} failed (${why}), so the apply did not start: ` +
          kubeadmFailure(host.name, 'kubeadm upgrade plan', { exitCode: o.exitCode, output: o.output }).failure.summary,
      );
    }
    if (apply) done.push(planLine(planned[0], version));
    if (!(o.state === 'finished' && o.exitCode === 0)) {
      const after = await versionsOf(node).catch(() => undefined);
      const why =
        o.state === 'finished' ? kubeadmFailure(host.name, what, o).failure.summary : `${o.state} before it finished`;
      throw refuse(
        'UpgradeFailed',
        upgradeFailureText({ host: host.name, what, why, ...(after ? { after } : {}), output: o.output }),
      );
    }
    done.push(`${what} done`);
    if (role !== 'worker') {
      const after = nodeUpgradeState(await versionsOf(node), role, version);
      if (after.step !== 'kubelet' && after.step !== 'done')
        throw refuse('UpgradeFailed', `${host.name}: ${what} finished, yet ${after.detail}`);
    }
    return { host: host.name, alreadyDone: false, attached: o.attached, detail: done.join('; ') };
  });

/** Printed between the plan and the apply in their one journaled command. */
const PLAN_END = 'kubeadm-ha:upgrade-plan-done';

/** What `kubeadm upgrade plan` said it will upgrade, in one line (its text is only reported: the apply decides). */
function planLine(output: string, version: string): string {
  try {
    return `kubeadm upgrade plan: ${planSummary(parseUpgradePlan(output), version)}`;
  } catch (e) {
    return `kubeadm upgrade plan's text not read (${(e as Error).message})`;
  }
}

/** How long a restarted kubelet may take to report its new version and Ready. */
const NODE_READY_MS = 5 * 60_000;

/**
 * The kubelet part of a hop on one node, the page's order: drain (through `via`, a control plane
 * with admin.conf), the new kubelet and kubectl, the kubelet restarted, the Node Ready at the new
 * version, uncordon. Done already when the Node reports the version, Ready and schedulable.
 */
export const upgradeKubelet = async ({
  host,
  ssh,
  stepId,
  version,
  source,
  via,
  disableEviction,
  controlPlane,
}: OnHost &
  Journaled & {
    version: string;
    /** Runs an API server: done only once it is ready. */
    controlPlane?: boolean;
    source: BinarySource;
    via: HostSpec;
    /** Who chose to drain without eviction, after a PodDisruptionBudget stopped the drain. */
    disableEviction?: { approvedBy: string };
  }): Promise<StepResult> =>
  withSessions(ssh, via.name === host.name ? [host] : [host, via], async (node, cpOrSelf): Promise<StepResult> => {
    const cp = cpOrSelf ?? node;
    const status = async () =>
      parseNodeStatus((await cp.check(nodeStatusCommand(KUBECTL, host.name), `reading Node ${host.name}`)).stdout);
    const before = await status();
    if (!before) throw refuse('UpgradeBlocked', `${host.name}: no Node of that name is registered`);
    if (before.kubeletVersion === version && before.ready && !before.cordoned)
      return { host: host.name, alreadyDone: true, detail: `kubelet at ${version}, Ready, schedulable` };
    const done: string[] = [];
    if (before.kubeletVersion !== version) {
      done.push(
        ...(await drain(cp, host, {
          kubectlVersion: version,
          disableEviction: disableEviction !== undefined,
          choices:
            'Retry once the budget allows it (more replicas, or the pods healthy elsewhere), drain it with --disable-eviction ' +
            '(deletes the pods without asking their budgets), skip the node, or abort',
        })),
      );
      if (disableEviction) done.push(`--disable-eviction chosen by ${disableEviction.approvedBy}`);
      await install(node, `${stepId}-kubelet`, ['kubelet', 'kubectl'], version, source, ssh.privateKeyFile);
      node.step('restarting the kubelet');
      const o = await node.journaled({ id: `${stepId}-restart`, command: KUBELET_RESTART });
      commandOutcome(host.name, 'restarting the kubelet', o);
      done.push(`kubelet and kubectl ${version} installed, kubelet restarted`);
    }
    const until = Date.now() + NODE_READY_MS;
    for (;;) {
      const s = await status();
      if (s && s.kubeletVersion === version && s.ready) break;
      if (Date.now() > until)
        throw refuse(
          'UpgradeFailed',
          `${host.name}: the Node reports ${s ? `kubelet ${s.kubeletVersion}, ${s.ready ? 'Ready' : 'NotReady'}` : 'nothing'} ` +
            `${NODE_READY_MS / 60_000} minutes after the kubelet's restart; see journalctl -u kubelet on the node, then retry`,
        );
      node.step(`waiting for Node ${host.name} to report kubelet ${version} and Ready`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    // A new kubelet may restart the static pods; a control plane's API server serves only once
    // ready (its RBAC roles loaded), and until then the load balancer's TCP check may send it
    // requests it refuses (Forbidden): the node is done once its own /readyz says ok.
    if (controlPlane) {
      const readyz = apiServerReadyCommand(host.address);
      for (;;) {
        const r = await node.run(readyz);
        if (r.exitCode === 0 && r.stdout.trim() === 'ok') break;
        if (Date.now() > until)
          throw refuse(
            'UpgradeFailed',
            `${host.name}: its API server is not ready ${NODE_READY_MS / 60_000} minutes after the kubelet's restart: ${(r.stdout + r.stderr).trim().slice(0, 300)}`,
          );
        node.step(`waiting for the API server on ${host.name} to be ready`);
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
    await cp.check(uncordonCommand(KUBECTL, host.name), `uncordoning ${host.name}`);
    done.push('Ready at the new version, uncordoned');
    return { host: host.name, alreadyDone: false, detail: done.join('; ') };
  });
