// The checks of a cluster file that need several fields: topology against etcd, what the
// Kubernetes version's kubeadm config can hold, duplicate hosts, etcd's member count, and pod and
// service ranges against each other and the hosts. Pure: the workflow runs them again on its input
// (the files the cluster file names are checked by ./file-checks, on the machine that reads it).
import { isIP } from '../kubeadm/validate';
import { configFieldProblem, parseKubeVersion, supportedVersionProblem, uploadCertsProblem } from '../kubeadm/version';
import { canonicalAddress, Cidr, cidrContains, cidrsOverlap, parseCidr, parseIp } from './net';
import { LIMITS } from './schema-parts';
import { cidrListProblem } from './value-problems';
import { isObject, list, type Raw, show } from './text';

/** etcd needs a majority: an even count tolerates no more lost members than one less (etcd FAQ, "Why an odd number of cluster members?"). */
const ETCD_SIZES = [1, 3, 5, 7];
/** kubeadm's default networking.serviceSubnet (cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go, DefaultServicesSubnet). */
const DEFAULT_SERVICE_SUBNET = '10.96.0.0/12';

interface HostRef {
  field: string;
  name?: string;
  address?: string;
  port: number;
}

export function crossChecks(doc: Raw, problems: string[], warnings: string[]): void {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const portOf = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : undefined);
  const ssh = isObject(doc.ssh) ? doc.ssh : {};
  const etcd = isObject(doc.etcd) ? doc.etcd : undefined;
  const topology = doc.topology ?? 'stacked';

  if (topology === 'stacked' && doc.etcd !== undefined)
    problems.push('etcd: only with topology: external (stacked etcd runs on the control planes)');
  if (topology === 'external' && doc.etcd === undefined) {
    problems.push(
      'etcd: topology external needs an etcd mapping: either hosts (kubeadm-ha builds the etcd cluster) or endpoints, caFile, certFile and keyFile (an etcd cluster that already runs)',
    );
  }
  const version = str(doc.kubernetesVersion);
  const v = version && !supportedVersionProblem(version) ? parseKubeVersion(version) : undefined;
  if (doc.certificates === 'upload' && v) {
    const p = uploadCertsProblem(v);
    if (p) problems.push(`certificates: ${p}; use copy`);
  }
  const kubeadmOptions = isObject(doc.kubeadm) ? doc.kubeadm : {};
  if (v) {
    const ignored = kubeadmOptions.ignorePreflightErrors;
    const ignoring = Array.isArray(ignored) && ignored.length > 0;
    const noIgnore = configFieldProblem(v, 'nodeRegistration.ignorePreflightErrors');
    if (ignoring && noIgnore) problems.push(`kubeadm.ignorePreflightErrors: ${noIgnore}`);
    const noPatches = configFieldProblem(v, 'patches.directory');
    if (kubeadmOptions.patches !== undefined && noPatches) problems.push(`kubeadm.patches: ${noPatches}`);
  }

  const upgrade = isObject(doc.upgrade) ? doc.upgrade : undefined;
  if (upgrade && (upgrade.binaries === undefined) === (upgrade.packages === undefined))
    problems.push(
      'upgrade: say how the new kubeadm, kubelet and kubectl reach the nodes: either binaries (a folder on the worker) or packages: apt, not both',
    );
  if (upgrade && v && Array.isArray(upgrade.through)) {
    for (const [i, t] of upgrade.through.entries()) {
      const tv = typeof t === 'string' && !supportedVersionProblem(t) ? parseKubeVersion(t) : undefined;
      if (tv && tv.minor >= v.minor)
        problems.push(
          `upgrade.through[${i}]: ${t} is not older than kubernetesVersion ${version}; list only the minors on the way to it`,
        );
    }
  }

  // Hosts: duplicates across every list, compared canonically (fd00:0:0::7 is fd00::7; DNS names ignore case).
  const sshPort = portOf(ssh.port) ?? 22;
  const hostLists: [string, unknown][] = [
    ['controlPlanes', doc.controlPlanes],
    ['workers', doc.workers],
    ['etcd.hosts', etcd?.hosts],
  ];
  const hosts: HostRef[] = [];
  for (const [key, v] of hostLists) {
    if (!Array.isArray(v)) continue;
    v.slice(0, LIMITS.workers).forEach((h, i) => {
      if (isObject(h))
        hosts.push({
          field: `${key}[${i}]`,
          name: str(h.name),
          address: str(h.address),
          port: portOf(h.port) ?? sshPort,
        });
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
        const same =
          first.address !== h.address ? ` (${show(h.address)} and ${show(first.address)} are the same address)` : '';
        problems.push(
          `${h.field}.address: duplicate host address ${show(hp(h.address))}, already used by ${first.field}${same}`,
        );
      }
    }
  }

  const etcdHosts = Array.isArray(etcd?.hosts) ? etcd.hosts.length : 0;
  if (etcdHosts > 0 && etcdHosts % 2 === 0) {
    problems.push(
      `etcd.hosts: ${etcdHosts} members; etcd needs an odd count (${ETCD_SIZES.join(', ')}): ${etcdHosts} members tolerate no more failures than ${etcdHosts - 1}, and a split vote cannot elect a leader`,
    );
  } else if (etcdHosts > 7) {
    problems.push(
      `etcd.hosts: ${etcdHosts} members; kubeadm-ha builds ${list(ETCD_SIZES.map(String), 'or')} (the etcd FAQ advises at most 7: every write waits for a majority)`,
    );
  }
  const kept = (v: unknown) => (Array.isArray(v) ? v.filter((h) => !(isObject(h) && h.remove === true)) : []);
  if (Array.isArray(doc.controlPlanes) && isObject(doc.controlPlanes[0]) && doc.controlPlanes[0].remove === true) {
    problems.push(
      'controlPlanes[0].remove: the first control plane cannot be removed: kubeadm-ha runs the cluster-level steps through it; list a control plane that stays first',
    );
  }
  const cps = kept(doc.controlPlanes).length;
  if (topology === 'stacked' && cps >= 2 && cps % 2 === 0) {
    warnings.push(
      `controlPlanes: ${cps} control planes tolerate no more failures than ${cps - 1}; use ${cps + 1 <= 7 ? cps + 1 : cps - 1}: each runs a stacked etcd member, and etcd needs a majority of its members (etcd FAQ, "Why an odd number of cluster members?")`,
    );
  }

  networkChecks(doc, hosts, problems);
}

/** Pod and service ranges: apart from each other, and holding none of the hosts' addresses. */
function networkChecks(doc: Raw, hosts: HostRef[], problems: string[]): void {
  const net = isObject(doc.networking) ? doc.networking : {};
  const ranges = (v: unknown, kind: 'pod' | 'service'): Cidr[] | undefined =>
    typeof v === 'string' && v !== '' && !cidrListProblem(kind)(v) ? v.split(',').map((c) => parseCidr(c)!) : undefined;
  const pod = ranges(net.podSubnet, 'pod');
  const svcGiven = net.serviceSubnet !== undefined;
  const svc = svcGiven ? ranges(net.serviceSubnet, 'service') : [parseCidr(DEFAULT_SERVICE_SUBNET)!];
  const svcName = svcGiven
    ? 'networking.serviceSubnet'
    : `kubeadm's default service range ${DEFAULT_SERVICE_SUBNET} (networking.serviceSubnet not set)`;
  if (pod && svc) {
    for (const p of pod) {
      for (const s of svc) {
        if (p.family === s.family && p.prefix === s.prefix && cidrsOverlap(p, s)) {
          problems.push(
            `networking.podSubnet: ${show(p.text)} is the same range as ${svcName}; pods and services need separate ranges`,
          );
        } else if (cidrsOverlap(p, s)) {
          problems.push(
            `networking.podSubnet: ${show(p.text)} overlaps ${svcName}${svcGiven ? ` ${show(s.text)}` : ''}; pick ranges that do not overlap`,
          );
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
  for (const [field, list_] of [
    ['networking.podSubnet', pod],
    ['networking.serviceSubnet', svcGiven ? svc : undefined],
  ] as const) {
    for (const c of list_ ?? []) {
      const inside = ips.filter((a) => cidrContains(c, a.ip));
      if (inside.length === 0) continue;
      const named = inside
        .slice(0, 3)
        .map((a) => `${a.field} ${a.address}`)
        .join(', ');
      const more = inside.length > 3 ? ` and ${inside.length - 3} more` : '';
      problems.push(
        `${field}: ${show(c.text)} contains ${named}${more}; the ${field.endsWith('podSubnet') ? 'pod' : 'service'} range must hold none of the hosts' addresses: pick a range they are outside of`,
      );
    }
  }
}
