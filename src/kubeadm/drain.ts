// Taking a node out of service before it is reset, as kubeadm's docs do ("Remove the node":
// kubectl drain <node> --delete-emptydir-data --force --ignore-daemonsets, then kubeadm reset, then
// kubectl delete node). --force is left out: a pod no controller manages is lost by a drain, and
// kubeadm-ha stops there for the operator rather than delete it. Texts: kubectl's drain
// (staging/src/k8s.io/kubectl/pkg/drain/drain.go) and the eviction API's refusal
// (pkg/registry/core/pod/storage/eviction.go). An upgrade drains each node the same way and
// uncordons it after its kubelet is back (the upgrade page's "Drain the node" / "Uncordon the node").
import { shellQuote } from '../common/shell-quote';
import { atLeast, parseKubeVersion } from './version';

/** How long one drain waits for its evictions before it gives up (kubectl's --timeout). */
export const DRAIN_TIMEOUT_SECONDS = 120;

export interface DrainOptions {
  /** kubectl's --timeout; DRAIN_TIMEOUT_SECONDS when absent. */
  timeoutSeconds?: number;
  /**
   * --disable-eviction: delete the pods instead of evicting them, which bypasses PodDisruptionBudgets
   * (kubectl 1.18+, kubernetes/kubernetes#85571). For an operator who chose it, never by default.
   */
  disableEviction?: boolean;
  /**
   * The kubectl's version ("v1.19.16"). Before 1.20 emptyDir pods are drained with
   * --delete-local-data, which 1.20 renamed --delete-emptydir-data (kubernetes/kubernetes#95076) and
   * later kubectls no longer take. The newer flags when absent.
   */
  kubectlVersion?: string;
}

/** `kubectl drain` without --force (see above); refuses --disable-eviction on a kubectl older than 1.18. */
export function drainCommand(kubectl: string, node: string, opts: DrainOptions = {}): string {
  const v = opts.kubectlVersion === undefined ? undefined : parseKubeVersion(opts.kubectlVersion);
  const timeout = opts.timeoutSeconds ?? DRAIN_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeout) || timeout <= 0)
    throw new Error(`drain timeout: ${timeout} is not a positive whole number of seconds`);
  if (opts.disableEviction && v && !atLeast(v, '1.18')) {
    throw new Error(`kubectl ${v.raw} has no --disable-eviction (kubectl 1.18+)`);
  }
  const emptyDir = v && !atLeast(v, '1.20') ? '--delete-local-data' : '--delete-emptydir-data';
  const evict = opts.disableEviction ? ' --disable-eviction' : '';
  return `${kubectl} drain ${shellQuote(node)} --ignore-daemonsets ${emptyDir}${evict} --timeout=${timeout}s`;
}

/** Marks the node schedulable again once it is back (`kubectl uncordon`). */
export const uncordonCommand = (kubectl: string, node: string): string => `${kubectl} uncordon ${shellQuote(node)}`;

export const deleteNodeCommand = (kubectl: string, node: string): string =>
  `${kubectl} delete node ${shellQuote(node)} --ignore-not-found`;

/** Prints the Node's name when it still exists, nothing when it is gone. */
export const nodeExistsCommand = (kubectl: string, node: string): string =>
  `${kubectl} get node ${shellQuote(node)} --ignore-not-found -o name`;

/** Every PodDisruptionBudget with how many disruptions it allows now: "<namespace> <name> <allowed>" per line. */
export const budgetsCommand = (kubectl: string): string =>
  `${kubectl} get poddisruptionbudgets --all-namespaces -o jsonpath='{range .items[*]}{.metadata.namespace} {.metadata.name} {.status.disruptionsAllowed}{"\\n"}{end}'`;

const PDB_REFUSAL = "Cannot evict pod as it would violate the pod's disruption budget";
const EVICTING = /error when evicting pods\/"([^"]+)" -n "([^"]+)"/g;

/** The pods ("namespace/name") whose eviction a PodDisruptionBudget refused, from kubectl drain's output. */
export function podsBlockedByBudgets(output: string): string[] {
  const pods = new Set<string>();
  for (const line of output.split('\n'))
    if (line.includes(PDB_REFUSAL)) for (const m of line.matchAll(EVICTING)) pods.add(`${m[2]}/${m[1]}`);
  return [...pods];
}

/** The budgets of `namespaces` that allow no disruption now ("namespace/name"), from budgetsCommand's output. */
export function exhaustedBudgets(output: string, namespaces: readonly string[]): string[] {
  return output
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([ns, name, allowed]) => name && namespaces.includes(ns) && allowed === '0')
    .map(([ns, name]) => `${ns}/${name}`);
}
