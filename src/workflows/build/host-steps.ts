// The build's steps on one host, as the phases hand them to the engine: each takes the journal id
// the engine gives it and returns what to show for the host.
import { patched } from '@temporalio/workflow';
import type { HostSpec } from '../../config/types';
import type { OnHostsOptions, PhaseContext } from '../engine/context';
import type { HostAction } from '../engine/phase';
import type { BuildFacts, BuildState } from './state';
import { resetPlan } from './state';
import type { BuildCluster } from './cluster';

/** `kubeadm reset -f` (and, for a stacked control plane, its etcd member's removal); undefined: nothing to clean. */
export const cleanNode = (b: BuildState) => (host: HostSpec) => async (stepId: string, approvedBy?: string) => {
  const { c } = b;
  const r = await b.acts.cleanNode({
    ...c.at(host),
    stepId,
    role: c.roleOf(host),
    stacked: c.stacked,
    ...(host === c.firstCp ? {} : { healthy: c.firstCp }),
    ...(approvedBy ? { approvedBy } : {}),
  });
  return r.cleaned ? r.detail : undefined;
};

export const copyCerts = (b: BuildState, host: HostSpec, stepId: string) =>
  b.acts.distributeCerts({
    ...b.c.at(host),
    stepId,
    source: b.c.firstCp,
    topology: b.c.spec.topology,
    kubernetesVersion: b.c.spec.kubernetesVersion,
  });

/** Upload mode: the certificates must outlive the control-plane join about to start. */
async function uploadCertsIfDue(b: BuildState, stepId: string): Promise<void> {
  const t = b.certsTuning;
  const left = b.certsUploadedAt === undefined ? 0 : b.certsUploadedAt + t.validSeconds * 1000 - Date.now();
  if (left >= t.minRemainingSeconds * 1000) return;
  await b.acts.uploadCerts({ ...b.c.at(b.c.firstCp), stepId: `${stepId}.upload-certs`, config: b.c.initConfig() });
  b.certsUploadedAt = Date.now();
}

/** Runs from before this patch kept the certificate key on the first control plane after the joins. */
export const REMOVE_CERTIFICATE_KEY = 'remove-certificate-key';

/**
 * Upload mode, once no control plane is left to join: the certificate key leaves the first control
 * plane (a step there, which parks if it fails). The uploaded certificates are then as good as gone,
 * so a later control-plane join uploads them again, with a new key.
 */
export async function removeCertificateKey(ctx: PhaseContext<BuildState>): Promise<void> {
  const b = ctx.state;
  const { c } = b;
  if (!c.upload || !patched(REMOVE_CERTIFICATE_KEY)) return;
  await ctx.onFirst('removeCertificateKey', async () => (await b.acts.removeCertificateKey(c.at(c.firstCp))).detail);
  b.certsUploadedAt = undefined;
}

/** kubeadm join, as a control plane or a worker, with a fresh token. */
export const join = (b: BuildState) => (host: HostSpec) => async (stepId: string) => {
  const { c } = b;
  const downloadCerts = c.upload && c.roleOf(host) === 'control-plane';
  if (downloadCerts) await uploadCertsIfDue(b, stepId);
  const r = await b.acts.joinNode({
    ...c.at(host),
    stepId,
    role: c.roleOf(host),
    kubernetesVersion: c.spec.kubernetesVersion,
    endpoint: c.endpoint,
    caCertHash: b.caCertHash,
    token: await b.tokens.fresh(),
    tokenHost: c.firstCp,
    ...(downloadCerts ? { downloadCerts } : {}),
    ...c.kubeadmOptions(),
  });
  return r.detail;
};

/** The workers' join, at most workerConcurrency at once: a failed try is cleaned by a reset. */
export const joinWorkerSteps = (b: BuildState): OnHostsOptions => ({
  step: 'joinNode',
  limit: b.c.spec.workerConcurrency,
  run: join(b),
  clean: cleanNode(b),
  joins: true,
});

export const inspectInput = (b: BuildState, host: HostSpec) => ({
  ...b.c.at(host),
  role: b.c.roleOf(host),
  kubernetesVersion: b.c.spec.kubernetesVersion,
});

/** Inspection of each host, at most workerConcurrency at once: its facts are kept in the state. */
export const inspectSteps = (b: BuildState): OnHostsOptions => ({
  step: 'inspectHost',
  limit: b.c.spec.workerConcurrency,
  run: (host) => async () => {
    const f = await b.acts.inspectHost(inspectInput(b, host));
    b.hostFacts.set(host.name, f);
    return `kubeadm ${f.kubeadmVersion}${f.busy ? `, still running ${f.busy}` : ''}`;
  },
});

/** What a step on `host` would do, given the state inspection found it in: `verb`, after a reset when it is half-done. */
export function actionOn(c: BuildCluster, facts: BuildFacts, host: HostSpec, step: string, verb: string): HostAction {
  const s = facts.states.get(host.name);
  const role = c.roleOf(host);
  if (s?.state === 'unknown') {
    return {
      host: host.name,
      role,
      action: `${verb}, once its state is known: it is unknown (${s.detail}), so start parks it at inspection (retry or abort)`,
    };
  }
  if (s?.state !== 'half-done') return { host: host.name, role, action: verb };
  const reset = resetPlan(c, host, step, s);
  const approval = reset.needsOperator ? ` (an operator's retry approves it: ${reset.needsOperator})` : '';
  return {
    host: host.name,
    role,
    action: `reset what an earlier attempt left (${s.removes.join(', ')})${approval}, then ${verb}`,
  };
}

/** The hosts not yet part of the cluster, as inspection found them (without the workers skipped there). */
export const notJoined = (facts: BuildFacts, hosts: HostSpec[]): HostSpec[] =>
  hosts.filter((h) => !facts.skipped.includes(h.name) && facts.states.get(h.name)?.state !== 'joined');

/** The facts that show hosts are done, for a skipped phase's reason: each one for a few hosts, a count for many. */
export function joinedFacts(facts: BuildFacts, hosts: HostSpec[]): string {
  const details = hosts.map((h) => {
    const st = facts.states.get(h.name);
    return `${h.name}: ${st?.state === 'joined' ? st.detail : st?.state}`;
  });
  return hosts.length <= 5 ? details.join('; ') : `${hosts.length} hosts, e.g. ${details.slice(0, 2).join('; ')}`;
}

export const initDone = (c: BuildCluster, facts: BuildFacts): boolean =>
  facts.states.get(c.firstCp.name)?.state === 'joined';

export const readVia = (facts: BuildFacts): string => (facts.via ? ` (read ${facts.via})` : '');
