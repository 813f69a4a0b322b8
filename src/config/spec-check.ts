// The workflow's input checked again where it is used. The CLI checks the cluster file, but whoever
// can start a run on the task queue (anyone who reaches the Temporal frontend, unless a payload key
// is set) can hand the worker a spec the CLI never saw. So the workflow runs the cluster file's own
// schema and cross-checks on its input before anything is scheduled. Pure: the workflow sandbox runs it.
import { crossChecks } from './cross-checks';
import { defaultMessage, issueProblems } from './issue-messages';
import { clusterFileSchema } from './schema';
import { isObject, type Raw } from './text';

/**
 * The loaded spec in the cluster file's shape (cniManifest back under cni.manifest), every other
 * key passed on as it is, so the strict schema refuses any key a cluster file cannot hold.
 */
function asClusterFile(spec: Raw): Raw {
  const { cniManifest, ...rest } = spec;
  return { ...rest, cni: { manifest: cniManifest } };
}

/** Paths the worker reads: the CLI made them absolute, and nothing else may resolve them. */
function relativePaths(spec: Raw): string[] {
  const at = (o: unknown, k: string) => (isObject(o) ? o[k] : undefined);
  const paths: [string, unknown][] = [
    ['cni.manifest', spec.cniManifest],
    ['ssh.privateKeyFile', at(spec.ssh, 'privateKeyFile')],
    ['ssh.knownHostsFile', at(spec.ssh, 'knownHostsFile')],
    ...(at(spec.upgrade, 'binaries') === undefined
      ? []
      : [['upgrade.binaries', at(spec.upgrade, 'binaries')] as [string, unknown]]),
    ...(['caFile', 'certFile', 'keyFile'] as const)
      .filter((k) => at(spec.etcd, k) !== undefined)
      .map((k): [string, unknown] => [`etcd.${k}`, at(spec.etcd, k)]),
  ];
  return paths
    .filter(([, p]) => typeof p === 'string' && !p.startsWith('/'))
    .map(([field]) => `${field}: must be an absolute path in a run's input (the CLI resolves it)`);
}

/** Every problem of a run's cluster spec, each naming its field; empty when it is one the CLI would start. */
export function specProblems(spec: unknown): string[] {
  if (!isObject(spec)) return ['spec: must be the cluster spec (an object)'];
  const file = asClusterFile(spec);
  const parsed = clusterFileSchema.safeParse(file, { error: defaultMessage });
  const problems = parsed.success ? [] : issueProblems(parsed.error.issues, file, []);
  crossChecks(file, problems, []);
  problems.push(...relativePaths(spec));
  return problems;
}
