// Taking a node out of service before it is reset, as kubeadm's docs do ("Remove the node":
// kubectl drain <node> --delete-emptydir-data --force --ignore-daemonsets, then kubeadm reset, then
// kubectl delete node). --force is left out: a pod no controller manages is lost by a drain, and
// kubeadm-ha stops there for the operator rather than delete it. Texts: kubectl's drain
// (staging/src/k8s.io/kubectl/pkg/drain/drain.go) and the eviction API's refusal
// (pkg/registry/core/pod/storage/eviction.go).
import { shellQuote } from '../common/shell-quote';

/** How long one drain waits for its evictions before it gives up (kubectl's --timeout). */
export const DRAIN_TIMEOUT_SECONDS = 120;

export const drainCommand = (kubectl: string, node: string, timeoutSeconds = DRAIN_TIMEOUT_SECONDS): string =>
  `${kubectl} drain ${shellQuote(node)} --ignore-daemonsets --delete-emptydir-data --timeout=${timeoutSeconds}s`;

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
