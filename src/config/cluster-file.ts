// Reads and validates a cluster file. Every problem is reported at once, each naming its field
// and saying what to fix, so an operator fixes the file in one pass and no workflow starts.
// The shape is ./schema (zod); here: reading with bounds, and the loaded spec. zod's issues become
// messages in ./issue-messages; the checks that need several fields are ./cross-checks, and those
// of the files the cluster file names ./file-checks.
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { crossChecks } from './cross-checks';
import { fileChecks, readBounded, resolvePath, TooLarge } from './file-checks';
import { defaultMessage, issueProblems } from './issue-messages';
import { clusterFileSchema } from './schema';
import { LIMITS } from './schema-parts';
import { escapeControls, isObject, type Raw } from './text';
import type { ClusterSpec, EtcdSpec, HostSpec } from './types';

export class ClusterFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
    readonly warnings: string[] = [],
  ) {
    super(`${escapeControls(file)}: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ClusterFileError';
  }
}

/** A valid file, and what is allowed but unwise (printed by `start`, never a reason to refuse). */
export interface LoadedClusterFile {
  spec: ClusterSpec;
  warnings: string[];
}

/** Reads, parses and validates; throws ClusterFileError listing every problem. */
export function readClusterFile(path: string): LoadedClusterFile {
  const file = resolve(path);
  let data: Buffer;
  try {
    data = readBounded(file, LIMITS.fileBytes);
  } catch (e) {
    if (e instanceof TooLarge) {
      throw new ClusterFileError(file, [
        `the cluster file is larger than ${LIMITS.fileBytes / 1024} KiB (${e.size} bytes or more); a cluster file is far smaller: is it the right file?`,
      ]);
    }
    throw new ClusterFileError(file, [`cannot read the cluster file: ${escapeControls((e as Error).message)}`]);
  }
  return checkClusterFile(parseClusterYaml(file, data), file);
}

/**
 * The file's YAML, strictly: valid UTF-8 (never silently replaced), YAML 1.2 only (a `%YAML 1.1`
 * header would read `yes` as true and `0:22` as 22), and no tag the parser does not know (yaml would
 * only warn, printing the raw line). Every message is escaped before it reaches a terminal.
 */
function parseClusterYaml(file: string, data: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    const lines = data.toString('latin1').split('\n');
    const bad = lines.findIndex((_, i) => {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(lines[i], 'latin1'));
        return false;
      } catch {
        return true;
      }
    });
    throw new ClusterFileError(file, [`line ${bad + 1}: not valid UTF-8; save the file as UTF-8`]);
  }
  // yaml's defaults refuse duplicate keys and cap alias expansion (maxAliasCount 100: no "billion laughs").
  const doc = parseDocument(text, { version: '1.2' });
  const first = doc.errors[0] ?? doc.warnings[0];
  if (first) throw new ClusterFileError(file, [`not valid YAML: ${escapeControls(first.message.split('\n')[0])}`]);
  if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== '1.2') {
    throw new ClusterFileError(file, [
      `a %YAML ${doc.directives.yaml.version} header changes how values such as yes and 0:22 are read; remove it (cluster files are YAML 1.2)`,
    ]);
  }
  return doc.toJS();
}

/** The validated spec of a cluster file (warnings dropped: `start` uses readClusterFile to print them). */
export function loadClusterFile(path: string): ClusterSpec {
  return readClusterFile(path).spec;
}

/**
 * Validates a parsed cluster file, with the warnings; relative paths resolve against the file's
 * folder. checkFiles=false skips reading the key and manifest files.
 */
export function checkClusterFile(doc: unknown, file: string, checkFiles = true): LoadedClusterFile {
  if (!isObject(doc))
    throw new ClusterFileError(file, [
      'the file must be a YAML mapping (key: value), see the example in docs/cluster-file.md',
    ]);
  const raw = dropNulls(doc) as Raw;
  const base = dirname(file);
  const parsed = clusterFileSchema.safeParse(raw, { error: defaultMessage });
  const problems = parsed.success ? [] : issueProblems(parsed.error.issues, raw, []);
  const warnings: string[] = [];
  crossChecks(raw, problems, warnings);
  if (checkFiles) fileChecks(raw, base, problems);
  if (problems.length > 0 || !parsed.success) throw new ClusterFileError(file, bounded(problems), bounded(warnings));
  return { spec: toSpec(parsed.data, base), warnings: bounded(warnings) };
}

/** At most LIMITS.problems lines, each escaped (no raw control characters) and of bounded length. */
function bounded(lines: string[]): string[] {
  const safe = lines.map((l) => escapeControls(l.length > 600 ? `${l.slice(0, 600)}...` : l));
  if (safe.length <= LIMITS.problems) return safe;
  return [...safe.slice(0, LIMITS.problems), `and ${safe.length - LIMITS.problems} more (fix these first)`];
}

/** The workflow's input: defaults applied, host ports filled in, paths absolute (see ClusterSpec). */
function toSpec(d: z.output<typeof clusterFileSchema>, base: string): ClusterSpec {
  const port = d.ssh.port;
  const host = (h: { name: string; address: string; port?: number; taskQueue?: string; remove?: true }): HostSpec => {
    const taskQueue = h.taskQueue ?? d.taskQueue;
    return {
      name: h.name,
      address: h.address,
      port: h.port ?? port,
      // Only files that name queues carry them, so the specs (and histories) of others keep their shape.
      ...(taskQueue ? { taskQueue } : {}),
      ...(h.remove ? { remove: true } : {}),
    };
  };
  let etcd: EtcdSpec | undefined;
  if (d.etcd) {
    etcd =
      'hosts' in d.etcd
        ? { hosts: d.etcd.hosts.map(host) }
        : {
            endpoints: d.etcd.endpoints,
            caFile: resolvePath(d.etcd.caFile, base),
            certFile: resolvePath(d.etcd.certFile, base),
            keyFile: resolvePath(d.etcd.keyFile, base),
          };
  }
  const { jumpHost } = d.ssh;
  return {
    name: d.name,
    kubernetesVersion: d.kubernetesVersion,
    topology: d.topology,
    ...(etcd ? { etcd } : {}),
    certificates: d.certificates,
    loadBalancer: { host: d.loadBalancer.host, port: d.loadBalancer.port },
    networking: {
      podSubnet: d.networking.podSubnet,
      ...(d.networking.serviceSubnet ? { serviceSubnet: d.networking.serviceSubnet } : {}),
    },
    ...(d.kubeletConfiguration && Object.keys(d.kubeletConfiguration).length
      ? { kubeletConfiguration: d.kubeletConfiguration }
      : {}),
    ...(d.kubeProxyConfiguration && Object.keys(d.kubeProxyConfiguration).length
      ? { kubeProxyConfiguration: d.kubeProxyConfiguration }
      : {}),
    kubeadm: {
      ignorePreflightErrors: d.kubeadm.ignorePreflightErrors,
      ...(d.kubeadm.patches ? { patches: d.kubeadm.patches } : {}),
    },
    cniManifest: resolvePath(d.cni.manifest, base),
    ssh: {
      user: d.ssh.user,
      privateKeyFile: resolvePath(d.ssh.privateKeyFile, base),
      knownHostsFile: resolvePath(d.ssh.knownHostsFile, base),
      port,
      hostKeyPolicy: d.ssh.hostKeyPolicy,
      ...(jumpHost
        ? { jumpHost: { address: jumpHost.address, port: jumpHost.port, user: jumpHost.user ?? d.ssh.user } }
        : {}),
      forwardAgent: d.ssh.forwardAgent,
    },
    controlPlanes: d.controlPlanes.map(host),
    workers: d.workers.map(host),
    approvals: d.approvals,
    workerConcurrency: d.workerConcurrency,
    ...(d.upgrade
      ? {
          upgrade: {
            ...(d.upgrade.binaries ? { binaries: resolvePath(d.upgrade.binaries, base) } : {}),
            ...(d.upgrade.packages ? { packages: d.upgrade.packages } : {}),
            through: d.upgrade.through,
            workerBatch: d.upgrade.workerBatch,
          },
        }
      : {}),
  };
}

/** An empty value (`key:` or `key: ~`) is the same as leaving the key out. */
function dropNulls(v: unknown, depth = 0): unknown {
  if (depth > 32) return v;
  if (Array.isArray(v)) return v.map((x) => dropNulls(x, depth + 1));
  if (!isObject(v)) return v;
  const out: Raw = {};
  for (const [k, x] of Object.entries(v))
    if (x !== null)
      Object.defineProperty(out, k, {
        value: dropNulls(x, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return out;
}
