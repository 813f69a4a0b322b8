// Draining a node through a control plane, shared by a removal and an upgrade: kubectl drain as
// kubeadm's docs run it ("Remove the node"; the upgrade page's "Drain the node"), and a drain a
// PodDisruptionBudget stopped reported with the pods and budgets, so the operator can decide.
import { ApplicationFailure } from '@temporalio/activity';
import type { HostSpec } from '../config/types';
import { budgetsCommand, drainCommand, exhaustedBudgets, podsBlockedByBudgets } from '../kubeadm/drain';
import { KUBECTL } from '../kubeadm/paths';
import { type Remote, tail } from './host-context';

export interface DrainRequest {
  /** The kubectl's version: it names emptyDir's flag. */
  kubectlVersion: string;
  /** Delete the pods instead of evicting them (kubectl drain --disable-eviction): PodDisruptionBudgets are not asked. */
  disableEviction?: boolean;
  /** What the operator may do when a budget stops the drain, in words. */
  choices?: string;
}

/** Drains `host` from `cp`; what it did, in words (nothing when the Node is gone already). */
export async function drain(cp: Remote, host: HostSpec, req: DrainRequest): Promise<string[]> {
  cp.step(`kubectl drain ${host.name}${req.disableEviction ? ' --disable-eviction' : ''}`);
  const r = await cp.run(
    drainCommand(KUBECTL, host.name, { kubectlVersion: req.kubectlVersion, disableEviction: req.disableEviction }),
  );
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.exitCode === 0) return [req.disableEviction ? 'drained without eviction (--disable-eviction)' : 'drained'];
  if (/nodes? "[^"]+" not found/.test(out)) return []; // deleted by an earlier attempt
  const pods = podsBlockedByBudgets(out);
  if (pods.length) {
    const namespaces = [...new Set(pods.map((p) => p.split('/')[0]))];
    const budgets = exhaustedBudgets((await cp.run(budgetsCommand(KUBECTL))).stdout, namespaces);
    throw ApplicationFailure.create({
      type: 'DrainBlocked',
      nonRetryable: true,
      message:
        `${host.name}: kubectl drain stopped: PodDisruptionBudget ${budgets.join(', ') || '(in ' + namespaces.join(', ') + ')'} ` +
        `allows no disruption of ${pods.join(', ')}; the node is cordoned. ` +
        (req.choices ??
          'Retry once the budget allows it (more replicas, or the pods healthy elsewhere), skip it, or abort'),
    });
  }
  throw ApplicationFailure.create({
    type: 'DrainFailed',
    nonRetryable: true,
    message: `${host.name}: kubectl drain failed (exit ${r.exitCode}): ${tail(out, 400)}`,
  });
}
