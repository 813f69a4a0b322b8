// Reads and validates a cluster file. Every problem is reported at once, each naming its field
// and saying what to fix, so an operator fixes the file in one pass and no workflow starts.
// The shape is ./schema (zod); here: reading with bounds, turning zod's issues into those messages,
// and the checks that need several fields or the files on disk.
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { isIP } from '../kubeadm/validate';
import { parseKubeVersion, supportedVersionProblem, uploadCertsProblem } from '../kubeadm/version';
import { canonicalAddress, Cidr, cidrContains, cidrsOverlap, parseCidr, parseIp } from './net';
import { cidrListProblem, clusterFileSchema, knownKeys, LIMITS } from './schema';
import { describe, didYouMean, escapeControls, list, show, showKey } from './text';
import { ClusterSpec, EtcdSpec, HostSpec } from './types';
import { fileChecks, isObject, type Raw, readBounded, resolvePath, TooLarge } from './file-checks';

export { LIMITS } from './schema';

export class ClusterFileError extends Error {
  constructor(readonly file: string, readonly problems: string[], readonly warnings: string[] = []) {
    super(`${escapeControls(file)}: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ClusterFileError';
  }
}

/** A valid file, and what is allowed but unwise (printed by `start`, never a reason to refuse). */
export interface LoadedClusterFile {
  spec: ClusterSpec;
  warnings: string[];
}

/** etcd needs a majority: an even count tolerates no more lost members than one less (etcd FAQ, "Why an odd number of cluster members?"). */
const ETCD_SIZES = [1, 3, 5, 7];
/** kubeadm's default networking.serviceSubnet (cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go, DefaultServicesSubnet). */
const DEFAULT_SERVICE_SUBNET = '10.96.0.0/12';

/** Reads, parses and validates; throws ClusterFileError listing every problem. */
export function readClusterFile(path: string): LoadedClusterFile {
  const file = resolve(path);
  let data: Buffer;
  try {
    data = readBounded(file, LIMITS.fileBytes);
  } catch (e) {
    if (e instanceof TooLarge) {
      throw new ClusterFileError(file, [`the cluster file is larger than ${LIMITS.fileBytes / 1024} KiB (${e.size} bytes or more); a cluster file is far smaller: is it the right file?`]);
    }
    throw new ClusterFileError(file, [`cannot read the cluster file: ${escapeControls((e as Error).message)}`]);
  }
  let doc: unknown;
  try {
    // yaml's defaults refuse duplicate keys and cap alias expansion (maxAliasCount 100: no "billion laughs").
    doc = parse(data.toString('utf8'));
  } catch (e) {
    throw new ClusterFileError(file, [`not valid YAML: ${escapeControls((e as Error).message.split('\n')[0])}`]);
  }
  return checkClusterFile(doc, file);
}

/** The validated spec of a cluster file (warnings dropped: `start` uses readClusterFile to print them). */
export function loadClusterFile(path: string): ClusterSpec {
  return readClusterFile(path).spec;
}

/** Validates a parsed cluster file; relative paths resolve against the file's folder. */
export function validateClusterFile(doc: unknown, file: string, checkFiles = true): ClusterSpec {
  return checkClusterFile(doc, file, checkFiles).spec;
}

/** As validateClusterFile, with the warnings. checkFiles=false skips reading the key and manifest files. */
export function checkClusterFile(doc: unknown, file: string, checkFiles = true): LoadedClusterFile {
  if (!isObject(doc)) throw new ClusterFileError(file, ['the file must be a YAML mapping (key: value), see the README example']);
  const raw = dropNulls(doc) as Raw;
  const base = dirname(file);
  const parsed = clusterFileSchema.safeParse(raw, { error: defaultMessage });
  const problems = parsed.success ? [] : issueProblems(parsed.error.issues, raw, []);
  const warnings: string[] = [];
  crossChecks(raw, base, checkFiles, problems, warnings);
  if (problems.length > 0 || !parsed.success) throw new ClusterFileError(file, bounded(problems), bounded(warnings));
  return { spec: toSpec(parsed.data, base), warnings: bounded(warnings) };
}

// ---- from zod's issues to messages -------------------------------------------------------------

const EXPECTED: Record<string, string> = {
  string: 'a string (quote it if YAML reads it as a number or true/false)', number: 'a number', int: 'a whole number',
  boolean: 'true or false', object: 'a mapping (key: value)', array: 'a list',
};

/** Messages for zod's issues where the schema gives none; the field path is prefixed later. */
function defaultMessage(iss: z.core.$ZodRawIssue): string | undefined {
  const i = iss as unknown as { code: string; input?: unknown; expected?: string; values?: unknown[]; origin?: string; minimum?: number | bigint; maximum?: number | bigint };
  const len = Array.isArray(i.input) || typeof i.input === 'string' ? i.input.length : undefined;
  switch (i.code) {
    case 'invalid_type':
      return i.input === undefined ? 'missing; it is required' : `must be ${EXPECTED[i.expected ?? ''] ?? i.expected}, got ${describe(i.input)}`;
    case 'invalid_value': {
      const values = (i.values ?? []).map(String);
      const near = typeof i.input === 'string' ? didYouMean(i.input, values) : undefined;
      return `${show(i.input)} is unknown; use one of ${values.join(', ')}${near ? `; did you mean ${near}?` : ''}`;
    }
    case 'too_small':
      if (i.origin === 'string' && Number(i.minimum) === 1) return 'missing; it is required';
      if (i.origin === 'array') return `needs at least ${i.minimum}, found ${len}`;
      return `${show(i.input)} is too small; the least is ${i.minimum}`;
    case 'too_big':
      if (i.origin === 'array') return `has ${len} entries; at most ${i.maximum} are allowed`;
      if (i.origin === 'string') return `is ${len} characters long; at most ${i.maximum} are allowed`;
      return `${show(i.input)} is too big; the most is ${i.maximum}`;
    case 'unrecognized_keys':
      return 'unknown field';
    default:
      return undefined;
  }
}

let KNOWN: Map<string, string[]> | undefined;
const EXISTING_ETCD_KEYS = ['endpoints', 'caFile', 'certFile', 'keyFile'];

function fieldName(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${showKey(String(k))}`)).join('');
}

function at(doc: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Raw)[k as string] : undefined), doc);
}

function issueProblems(issues: readonly z.core.$ZodIssue[], doc: Raw, base: PropertyKey[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union') {
      // etcd is the only union: the form the user meant is the one with hosts, or else the existing cluster.
      const v = at(doc, path);
      const branch = isObject(v) && 'hosts' in v ? issue.errors[0] : issue.errors[issue.errors.length - 1];
      out.push(...issueProblems(branch, doc, path));
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(`${fieldName([...path, key])}: ${unknownKey(key, path, doc)}`);
    } else {
      out.push(`${fieldName(path) || '(top level)'}: ${issue.message}`);
    }
  }
  return out;
}

/** "unknown field; did you mean port?", or what the mapping takes. */
function unknownKey(key: string, path: readonly PropertyKey[], doc: Raw): string {
  KNOWN ??= knownKeys();
  const where = path.map((k) => (typeof k === 'number' ? '[]' : String(k))).join('.').replace(/\.\[\]/g, '[]');
  const isEtcd = where === 'etcd';
  const built = isEtcd && isObject(doc.etcd) && 'hosts' in doc.etcd;
  const known = isEtcd ? (built ? ['hosts'] : EXISTING_ETCD_KEYS) : KNOWN.get(where) ?? [];
  const near = didYouMean(key, known);
  if (near) return `unknown field; did you mean ${near}?`;
  // The right key in the wrong place: "podSubnet" at the top level is networking.podSubnet.
  if (key.length <= 64) {
    for (const [p, keys] of KNOWN) {
      const hit = p !== where && !p.includes('[]') && keys.find((k) => k.toLowerCase() === key.toLowerCase());
      if (hit) return `unknown field here; did you mean ${p ? `${p}.` : ''}${hit}?`;
    }
  }
  if (isEtcd) {
    return built ? 'unknown field next to etcd.hosts; an etcd cluster kubeadm-ha builds takes only hosts'
      : 'unknown field; an existing etcd cluster takes endpoints, caFile, certFile and keyFile (or give hosts for kubeadm-ha to build one)';
  }
  if (where === '') return `unknown field; known fields are ${known.join(', ')}`;
  return `unknown field; ${fieldName(path)} takes ${list(known)}`;
}

/** At most LIMITS.problems lines, each escaped (no raw control characters) and of bounded length. */
function bounded(lines: string[]): string[] {
  const safe = lines.map((l) => escapeControls(l.length > 600 ? `${l.slice(0, 600)}...` : l));
  if (safe.length <= LIMITS.problems) return safe;
  return [...safe.slice(0, LIMITS.problems), `and ${safe.length - LIMITS.problems} more (fix these first)`];
}

// ---- checks across fields, and of the files ------------------------------------------------------

interface HostRef { field: string; name?: string; address?: string; port: number }

function crossChecks(doc: Raw, base: string, checkFiles: boolean, problems: string[], warnings: string[]): void {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const portOf = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : undefined);
  const ssh = isObject(doc.ssh) ? doc.ssh : {};
  const etcd = isObject(doc.etcd) ? doc.etcd : undefined;
  const topology = doc.topology ?? 'stacked';

  if (topology === 'stacked' && doc.etcd !== undefined) problems.push('etcd: only with topology: external (stacked etcd runs on the control planes)');
  if (topology === 'external' && doc.etcd === undefined) {
    problems.push('etcd: topology external needs an etcd mapping: either hosts (kubeadm-ha builds the etcd cluster) or endpoints, caFile, certFile and keyFile (an etcd cluster that already runs)');
  }
  const version = str(doc.kubernetesVersion);
  if (doc.certificates === 'upload' && version && !supportedVersionProblem(version)) {
    const p = uploadCertsProblem(parseKubeVersion(version));
    if (p) problems.push(`certificates: ${p}; use copy`);
  }
  const kubeadmOptions = isObject(doc.kubeadm) ? doc.kubeadm : {};
  if (version && !supportedVersionProblem(version)) {
    const v = parseKubeVersion(version);
    if (Array.isArray(kubeadmOptions.ignorePreflightErrors) && kubeadmOptions.ignorePreflightErrors.length > 0 && v.minor < 15) {
      problems.push('kubeadm.ignorePreflightErrors: nodeRegistration.ignorePreflightErrors arrived in kubeadm.k8s.io/v1beta2 (Kubernetes 1.15)');
    }
    if (kubeadmOptions.patches !== undefined && v.minor < 22) problems.push('kubeadm.patches: patches.directory arrived in kubeadm.k8s.io/v1beta3 (Kubernetes 1.22)');
  }

  // Hosts: duplicates across every list, compared canonically (fd00:0:0::7 is fd00::7; DNS names ignore case).
  const sshPort = portOf(ssh.port) ?? 22;
  const hostLists: [string, unknown][] = [['controlPlanes', doc.controlPlanes], ['workers', doc.workers], ['etcd.hosts', etcd?.hosts]];
  const hosts: HostRef[] = [];
  for (const [key, v] of hostLists) {
    if (!Array.isArray(v)) continue;
    v.slice(0, LIMITS.workers).forEach((h, i) => {
      if (isObject(h)) hosts.push({ field: `${key}[${i}]`, name: str(h.name), address: str(h.address), port: portOf(h.port) ?? sshPort });
    });
  }
  const seen = new Map<string, HostRef>();
  for (const h of hosts) {
    if (h.name !== undefined) {
      const first = seen.get(`name=${h.name}`);
      if (first) problems.push(`${h.field}.name: duplicate host name ${show(h.name)}, already used by ${first.field}`);
      else seen.set(`name=${h.name}`, h);
    }
    if (h.address !== undefined) {
      const k = `address=${canonicalAddress(h.address)}:${h.port}`;
      const first = seen.get(k);
      const hp = (a: string) => `${a.includes(':') ? `[${a}]` : a}:${h.port}`;
      if (!first) seen.set(k, h);
      else {
        const same = first.address !== h.address ? ` (${show(h.address)} and ${show(first.address)} are the same address)` : '';
        problems.push(`${h.field}.address: duplicate host address ${show(hp(h.address))}, already used by ${first.field}${same}`);
      }
    }
  }

  const etcdHosts = Array.isArray(etcd?.hosts) ? etcd.hosts.length : 0;
  if (etcdHosts > 0 && etcdHosts % 2 === 0) {
    problems.push(`etcd.hosts: ${etcdHosts} members; etcd needs an odd count (${ETCD_SIZES.join(', ')}): ${etcdHosts} members tolerate no more failures than ${etcdHosts - 1}, and a split vote cannot elect a leader`);
  } else if (etcdHosts > 7) {
    problems.push(`etcd.hosts: ${etcdHosts} members; kubeadm-ha builds ${list(ETCD_SIZES.map(String), 'or')} (the etcd FAQ advises at most 7: every write waits for a majority)`);
  }
  const cps = Array.isArray(doc.controlPlanes) ? doc.controlPlanes.length : 0;
  if (topology === 'stacked' && cps >= 2 && cps % 2 === 0) {
    warnings.push(`controlPlanes: ${cps} control planes tolerate no more failures than ${cps - 1}; use ${cps + 1 <= 7 ? cps + 1 : cps - 1}: each runs a stacked etcd member, and etcd needs a majority of its members (etcd FAQ, "Why an odd number of cluster members?")`);
  }

  networkChecks(doc, hosts, problems);
  if (checkFiles) fileChecks(doc, base, problems);
}

/** Pod and service ranges: apart from each other, and holding none of the hosts' addresses. */
function networkChecks(doc: Raw, hosts: HostRef[], problems: string[]): void {
  const net = isObject(doc.networking) ? doc.networking : {};
  const ranges = (v: unknown, kind: 'pod' | 'service'): Cidr[] | undefined =>
    typeof v === 'string' && v !== '' && !cidrListProblem(kind)(v) ? v.split(',').map((c) => parseCidr(c)!) : undefined;
  const pod = ranges(net.podSubnet, 'pod');
  const svcGiven = net.serviceSubnet !== undefined;
  const svc = svcGiven ? ranges(net.serviceSubnet, 'service') : [parseCidr(DEFAULT_SERVICE_SUBNET)!];
  const svcName = svcGiven ? 'networking.serviceSubnet' : `kubeadm's default service range ${DEFAULT_SERVICE_SUBNET} (networking.serviceSubnet not set)`;
  if (pod && svc) {
    for (const p of pod) {
      for (const s of svc) {
        if (p.family === s.family && p.prefix === s.prefix && cidrsOverlap(p, s)) {
          problems.push(`networking.podSubnet: ${show(p.text)} is the same range as ${svcName}; pods and services need separate ranges`);
        } else if (cidrsOverlap(p, s)) {
          problems.push(`networking.podSubnet: ${show(p.text)} overlaps ${svcName}${svcGiven ? ` ${show(s.text)}` : ''}; pick ranges that do not overlap`);
        }
      }
    }
  }
  const lb = isObject(doc.loadBalancer) ? doc.loadBalancer : {};
  const addresses: { field: string; address: string }[] = [];
  if (typeof lb.host === 'string') addresses.push({ field: 'loadBalancer.host', address: lb.host });
  for (const h of hosts) if (h.address) addresses.push({ field: `${h.field}.address`, address: h.address });
  const etcd = isObject(doc.etcd) ? doc.etcd : {};
  if (Array.isArray(etcd.endpoints)) {
    etcd.endpoints.slice(0, LIMITS.endpoints).forEach((e, i) => {
      const m = typeof e === 'string' ? /^https:\/\/\[?([^\]/]+?)\]?:\d+\/?$/.exec(e) : null;
      if (m) addresses.push({ field: `etcd.endpoints[${i}]`, address: m[1] });
    });
  }
  const ips = addresses.flatMap((a) => (isIP(a.address) ? [{ ...a, ip: parseIp(a.address)! }] : []));
  for (const [field, list_] of [['networking.podSubnet', pod], ['networking.serviceSubnet', svcGiven ? svc : undefined]] as const) {
    for (const c of list_ ?? []) {
      const inside = ips.filter((a) => cidrContains(c, a.ip));
      if (inside.length === 0) continue;
      const named = inside.slice(0, 3).map((a) => `${a.field} ${a.address}`).join(', ');
      const more = inside.length > 3 ? ` and ${inside.length - 3} more` : '';
      problems.push(`${field}: ${show(c.text)} contains ${named}${more}; the ${field.endsWith('podSubnet') ? 'pod' : 'service'} range must hold none of the hosts' addresses: pick a range they are outside of`);
    }
  }
}

// ---- the spec ------------------------------------------------------------------------------------

function toSpec(d: z.output<typeof clusterFileSchema>, base: string): ClusterSpec {
  const port = d.ssh.port;
  const host = (h: { name: string; address: string; port?: number }): HostSpec => ({ name: h.name, address: h.address, port: h.port ?? port });
  let etcd: EtcdSpec | undefined;
  if (d.etcd) {
    etcd = 'hosts' in d.etcd ? { hosts: d.etcd.hosts.map(host) }
      : { endpoints: d.etcd.endpoints, caFile: resolvePath(d.etcd.caFile, base), certFile: resolvePath(d.etcd.certFile, base), keyFile: resolvePath(d.etcd.keyFile, base) };
  }
  const { jumpHost } = d.ssh;
  return {
    name: d.name, kubernetesVersion: d.kubernetesVersion, topology: d.topology, ...(etcd ? { etcd } : {}), certificates: d.certificates,
    loadBalancer: { host: d.loadBalancer.host, port: d.loadBalancer.port },
    networking: { podSubnet: d.networking.podSubnet, ...(d.networking.serviceSubnet ? { serviceSubnet: d.networking.serviceSubnet } : {}) },
    ...(d.kubeletConfiguration && Object.keys(d.kubeletConfiguration).length ? { kubeletConfiguration: d.kubeletConfiguration } : {}),
    ...(d.kubeProxyConfiguration && Object.keys(d.kubeProxyConfiguration).length ? { kubeProxyConfiguration: d.kubeProxyConfiguration } : {}),
    kubeadm: { ignorePreflightErrors: d.kubeadm.ignorePreflightErrors, ...(d.kubeadm.patches ? { patches: d.kubeadm.patches } : {}) },
    cniManifest: resolvePath(d.cni.manifest, base),
    ssh: {
      user: d.ssh.user, privateKeyFile: resolvePath(d.ssh.privateKeyFile, base), knownHostsFile: resolvePath(d.ssh.knownHostsFile, base),
      port, hostKeyPolicy: d.ssh.hostKeyPolicy,
      ...(jumpHost ? { jumpHost: { address: jumpHost.address, port: jumpHost.port, user: jumpHost.user ?? d.ssh.user } } : {}),
      forwardAgent: d.ssh.forwardAgent,
    },
    controlPlanes: d.controlPlanes.map(host), workers: d.workers.map(host), approvals: d.approvals,
    workerConcurrency: d.workerConcurrency,
  };
}

/** An empty value (`key:` or `key: ~`) is the same as leaving the key out. */
function dropNulls(v: unknown, depth = 0): unknown {
  if (depth > 32) return v;
  if (Array.isArray(v)) return v.map((x) => dropNulls(x, depth + 1));
  if (!isObject(v)) return v;
  const out: Raw = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) Object.defineProperty(out, k, { value: dropNulls(x, depth + 1), enumerable: true, writable: true, configurable: true });
  return out;
}

