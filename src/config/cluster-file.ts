// Reads and validates a cluster file. Every problem is reported at once, each naming its field
// and saying what to fix, so an operator fixes the file in one pass and no workflow starts.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseKubeVersion, supportedVersionProblem, uploadCertsProblem } from '../kubeadm/version';
import { CERTIFICATE_MODES, CertificateMode, ClusterSpec, EtcdSpec, GATED_PHASES, GatedPhase, HostSpec, Topology } from './types';
import { checkCidrs, isDnsName, isIP } from '../kubeadm/validate';

export class ClusterFileError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ClusterFileError';
  }
}

type Raw = Record<string, unknown>;
const TOPOLOGIES: Topology[] = ['stacked', 'external'];
const KNOWN_KEYS = ['name', 'kubernetesVersion', 'topology', 'etcd', 'certificates', 'loadBalancer', 'networking', 'cni', 'ssh',
  'controlPlanes', 'workers', 'approvals', 'workerConcurrency'];
/** etcd needs a majority: an even count tolerates no more lost members than one less (etcd FAQ, "Why an odd number of cluster members?"). */
const ETCD_SIZES = [1, 3, 5, 7];

export function loadClusterFile(path: string): ClusterSpec {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ClusterFileError(file, [`cannot read the cluster file: ${(e as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ClusterFileError(file, [`not valid YAML: ${(e as Error).message.split('\n')[0]}`]);
  }
  return validateClusterFile(doc, file);
}

/** Validates a parsed cluster file; relative paths resolve against the file's folder. */
export function validateClusterFile(doc: unknown, file: string, checkFiles = true): ClusterSpec {
  const problems: string[] = [];
  const base = dirname(file);
  if (!isObject(doc)) throw new ClusterFileError(file, ['the file must be a YAML mapping (key: value), see the README example']);
  for (const key of Object.keys(doc)) {
    if (!KNOWN_KEYS.includes(key)) problems.push(`${key}: unknown field; known fields are ${KNOWN_KEYS.join(', ')}`);
  }
  const str = (obj: Raw, key: string, field: string, required = true): string | undefined => {
    const v = obj[key];
    if (v === undefined || v === null || v === '') {
      if (required) problems.push(`${field}: missing; it is required`);
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      problems.push(`${field}: must be a string, got ${typeof v}`);
      return undefined;
    }
    return String(v);
  };
  const port = (obj: Raw, key: string, field: string, fallback?: number): number => {
    const v = obj[key] ?? fallback;
    if (v === undefined) {
      problems.push(`${field}: missing; give a TCP port (1-65535)`);
      return 0;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
      problems.push(`${field}: ${JSON.stringify(v)} is not a TCP port; use a whole number from 1 to 65535`);
      return 0;
    }
    return v;
  };
  const section = (key: string): Raw => {
    const v = doc[key];
    if (v === undefined) {
      problems.push(`${key}: missing; it is required`);
      return {};
    }
    if (!isObject(v)) {
      problems.push(`${key}: must be a mapping`);
      return {};
    }
    return v;
  };
  const path = (raw: string | undefined, field: string, what: string, mustBePrivate = false): string => {
    if (raw === undefined) return '';
    const p = resolvePath(raw, base);
    if (!checkFiles) return p;
    let mode: number;
    try {
      accessSync(p, constants.R_OK);
      const st = statSync(p);
      if (!st.isFile()) throw new Error('not a regular file');
      mode = st.mode;
    } catch (e) {
      problems.push(`${field}: cannot read ${what} ${p} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path and permissions`);
      return p;
    }
    if (mustBePrivate && (mode & 0o077) !== 0) {
      problems.push(`${field}: ${p} is readable by group or others; run: chmod 600 ${p}`);
    }
    return p;
  };

  const name = str(doc, 'name', 'name') ?? '';
  if (name && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    problems.push(`name: "${name}" must be lower-case letters, digits and '-', at most 63 characters (it becomes part of the workflow ID)`);
  }
  const kubernetesVersion = str(doc, 'kubernetesVersion', 'kubernetesVersion') ?? '';
  if (kubernetesVersion) {
    const p = supportedVersionProblem(kubernetesVersion);
    if (p) problems.push(`kubernetesVersion: ${p}`);
  }
  const topology = (str(doc, 'topology', 'topology', false) ?? 'stacked') as Topology;
  if (!TOPOLOGIES.includes(topology)) {
    problems.push(`topology: "${topology}" is unknown; use one of ${TOPOLOGIES.join(', ')}`);
  }
  const certificates = (str(doc, 'certificates', 'certificates', false) ?? 'copy') as CertificateMode;
  if (!CERTIFICATE_MODES.includes(certificates)) {
    problems.push(`certificates: "${certificates}" is unknown; use copy (the page's manual copy) or upload (kubeadm init --upload-certs)`);
  } else if (certificates === 'upload' && kubernetesVersion && !supportedVersionProblem(kubernetesVersion)) {
    const p = uploadCertsProblem(parseKubeVersion(kubernetesVersion));
    if (p) problems.push(`certificates: ${p}; use copy`);
  }

  const lb = section('loadBalancer');
  const lbHost = str(lb, 'host', 'loadBalancer.host') ?? '';
  if (lbHost && !isAddress(lbHost)) {
    problems.push(`loadBalancer.host: "${lbHost}" is neither an IP address nor a DNS name`);
  }
  const lbPort = port(lb, 'port', 'loadBalancer.port', 6443);

  const net = section('networking');
  const podSubnet = str(net, 'podSubnet', 'networking.podSubnet') ?? '';
  const podProblem = podSubnet ? cidrProblem('networking.podSubnet', podSubnet) : undefined;
  if (podProblem) problems.push(podProblem);
  const serviceSubnet = str(net, 'serviceSubnet', 'networking.serviceSubnet', false);
  const svcProblem = serviceSubnet ? cidrProblem('networking.serviceSubnet', serviceSubnet) : undefined;
  if (svcProblem) problems.push(svcProblem);

  const cni = section('cni');
  const cniManifest = path(str(cni, 'manifest', 'cni.manifest'), 'cni.manifest', 'the CNI manifest');

  const ssh = section('ssh');
  const sshPort = port(ssh, 'port', 'ssh.port', 22);
  const user = str(ssh, 'user', 'ssh.user') ?? '';
  if (user && !/^[a-z_][a-z0-9_-]*$/.test(user)) problems.push(`ssh.user: "${user}" is not a valid Linux user name`);
  const privateKeyFile = path(str(ssh, 'privateKeyFile', 'ssh.privateKeyFile'), 'ssh.privateKeyFile', 'the SSH private key', true);
  const knownHostsFile = path(str(ssh, 'knownHostsFile', 'ssh.knownHostsFile', false) ?? '~/.ssh/known_hosts',
    'ssh.knownHostsFile', 'the known_hosts file');

  const hosts = (key: string, min: number, raw: unknown = doc[key]): HostSpec[] => {
    const v = raw ?? [];
    if (!Array.isArray(v)) {
      problems.push(`${key}: must be a list of hosts ({ name, address })`);
      return [];
    }
    if (v.length < min) problems.push(`${key}: needs at least ${min} host(s), found ${v.length}`);
    return v.map((h, i) => {
      const field = `${key}[${i}]`;
      if (!isObject(h)) {
        problems.push(`${field}: must be a mapping with name and address`);
        return { name: '', address: '', port: sshPort };
      }
      const hostName = str(h, 'name', `${field}.name`) ?? '';
      if (hostName && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(hostName)) {
        problems.push(`${field}.name: "${hostName}" is not a valid node name (lower-case letters, digits, '-' and '.')`);
      }
      const address = str(h, 'address', `${field}.address`) ?? '';
      if (address && !isAddress(address)) {
        problems.push(`${field}.address: "${address}" is neither an IP address nor a DNS name`);
      }
      for (const k of Object.keys(h)) {
        if (!['name', 'address', 'port'].includes(k)) problems.push(`${field}.${k}: unknown field; hosts take name, address and port`);
      }
      if (key !== 'workers' && address && isAddress(address) && !isIP(address)) {
        problems.push(`${field}.address: "${address}" must be an IP address: kubeadm advertises ${key === 'controlPlanes' ? 'the API server' : 'the etcd member'} on it`);
      }
      return { name: hostName, address, port: port(h, 'port', `${field}.port`, sshPort) };
    });
  };
  const controlPlanes = hosts('controlPlanes', 1);
  const workers = hosts('workers', 0);
  const etcd = etcdSection(topology);
  const etcdHosts = etcd && 'hosts' in etcd ? etcd.hosts : [];
  const seen = new Map<string, string>();
  [...controlPlanes.map((h, i) => [h, `controlPlanes[${i}]`] as const), ...workers.map((h, i) => [h, `workers[${i}]`] as const),
    ...etcdHosts.map((h, i) => [h, `etcd.hosts[${i}]`] as const)]
    .forEach(([h, field]) => {
      for (const [key, value] of [['name', h.name], ['address', `${h.address}:${h.port}`]] as const) {
        if (!h.name || !h.address) continue;
        const k = `${key}=${value}`;
        const first = seen.get(k);
        if (first) problems.push(`${field}.${key}: duplicate host ${key} "${value}", already used by ${first}`);
        else seen.set(k, field);
      }
    });

  function etcdSection(t: Topology): EtcdSpec | undefined {
    const raw = (doc as Raw).etcd;
    if (t !== 'external') {
      if (raw !== undefined) problems.push('etcd: only with topology: external (stacked etcd runs on the control planes)');
      return undefined;
    }
    if (!isObject(raw)) {
      problems.push('etcd: topology external needs an etcd mapping: either hosts (kubeadm-ha builds the etcd cluster) or endpoints, caFile, certFile and keyFile (an etcd cluster that already runs)');
      return undefined;
    }
    if ('hosts' in raw) {
      for (const k of Object.keys(raw)) if (k !== 'hosts') problems.push(`etcd.${k}: unknown field next to etcd.hosts; an etcd cluster kubeadm-ha builds takes only hosts`);
      const list = hosts('etcd.hosts', 1, raw.hosts);
      if (list.length > 0 && !ETCD_SIZES.includes(list.length)) {
        problems.push(`etcd.hosts: ${list.length} members; etcd needs an odd count (${ETCD_SIZES.join(', ')}): ${list.length} members tolerate no more failures than ${list.length - 1}, and a split vote cannot elect a leader`);
      }
      return { hosts: list };
    }
    for (const k of Object.keys(raw)) {
      if (!['endpoints', 'caFile', 'certFile', 'keyFile'].includes(k)) problems.push(`etcd.${k}: unknown field; an existing etcd cluster takes endpoints, caFile, certFile and keyFile (or give hosts for kubeadm-ha to build one)`);
    }
    const eps = Array.isArray(raw.endpoints) ? raw.endpoints : [];
    if (eps.length === 0) problems.push('etcd.endpoints: give the etcd client URLs, e.g. [https://10.0.0.21:2379]');
    const endpoints = eps.map((e, i) => {
      const ok = typeof e === 'string' && /^https:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}\/?$/.test(e);
      if (!ok) problems.push(`etcd.endpoints[${i}]: ${JSON.stringify(e)} is not an https://host:port client URL (the API server talks TLS to etcd)`);
      return String(e);
    });
    return {
      endpoints,
      caFile: path(str(raw, 'caFile', 'etcd.caFile'), 'etcd.caFile', 'the etcd CA certificate'),
      certFile: path(str(raw, 'certFile', 'etcd.certFile'), 'etcd.certFile', 'the etcd client certificate'),
      keyFile: path(str(raw, 'keyFile', 'etcd.keyFile'), 'etcd.keyFile', 'the etcd client key', true),
    };
  }

  const approvalsRaw = doc.approvals ?? [...GATED_PHASES];
  let approvals: GatedPhase[] = [];
  if (!Array.isArray(approvalsRaw)) {
    problems.push(`approvals: must be a list drawn from ${GATED_PHASES.join(', ')} (or [] for none)`);
  } else {
    approvals = approvalsRaw.filter((p): p is GatedPhase => {
      const ok = (GATED_PHASES as readonly unknown[]).includes(p);
      if (!ok) problems.push(`approvals: "${String(p)}" is not a phase that can wait for approval; use ${GATED_PHASES.join(', ')}`);
      return ok;
    });
  }
  const wc = doc.workerConcurrency ?? 10;
  if (typeof wc !== 'number' || !Number.isInteger(wc) || wc < 1 || wc > 500) {
    problems.push(`workerConcurrency: ${JSON.stringify(wc)} must be a whole number from 1 to 500`);
  }

  if (problems.length > 0) throw new ClusterFileError(file, problems);
  return {
    name, kubernetesVersion, topology, ...(etcd ? { etcd } : {}), certificates,
    loadBalancer: { host: lbHost, port: lbPort },
    networking: { podSubnet, ...(serviceSubnet ? { serviceSubnet } : {}) },
    cniManifest,
    ssh: { user, privateKeyFile, knownHostsFile, port: sshPort, hostKeyPolicy: 'strict', forwardAgent: false },
    controlPlanes, workers, approvals,
    workerConcurrency: wc as number,
  };
}

/** A host name or IP; an all-numeric dotted string is a mistyped IP, not a name. */
function isAddress(s: string): boolean {
  return isIP(s) || (!/^[\d.]+$/.test(s) && isDnsName(s));
}

function cidrProblem(field: string, value: string): string | undefined {
  try {
    checkCidrs(field, value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resolvePath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}
