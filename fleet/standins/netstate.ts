// A stand-in host's network state: its iptables and ip6tables tables, its network devices and its
// IPVS services, kept in files under hosts/<name>/net/ (outside the host's mount namespace, like
// the cluster state). Stand-in hosts share the machine's network namespace, so the real
// iptables-restore, `ip link delete` or `ipvsadm --clear` run on one would change the machine's
// own (its firewall, the fleet's addresses on lo, another fleet's rules): standins/net.ts answers
// those commands from these files instead.
//
// The rules a node gets once it runs Kubernetes (addNodeNetwork, called by the stand-in kubeadm
// when init or join succeeds) are those of the real components, from their sources: the kubelet's
// KUBE-FIREWALL, KUBE-KUBELET-CANARY and KUBE-IPTABLES-HINT (kubernetes
// pkg/kubelet/kubelet_network_linux.go), kube-proxy's iptables mode (pkg/proxy/iptables/proxier.go:
// iptablesJumpChains, prepended to the built-in chains; a KUBE-SVC-/KUBE-SEP- pair per Service
// port, named by portProtoHash), and flannel's FLANNEL-POSTRTG and FLANNEL-FWD (flannel-io/flannel
// pkg/trafficmngr/iptables/iptables.go: masqRules, forwardRules, appended), with its devices
// flannel.1 (VXLAN) and cni0 (the bridge plugin's).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { netStateDir } from '../layout';
import { hostEnv } from './env';
import { readState } from './state';

export type Family = 'iptables' | 'ip6tables';

export interface Chain {
  name: string;
  /** ACCEPT/DROP for a built-in chain, '-' for a user chain. */
  policy: string;
  counters: string;
  /** Whole `-A CHAIN ...` lines, as iptables-save prints them. */
  rules: string[];
}

export interface Table {
  name: string;
  chains: Chain[];
}

export const BUILTIN_CHAINS: Record<string, string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** Targets that are extensions, not chains (a -j to anything else must name a chain of the table). */
const TARGETS = new Set(
  (
    'ACCEPT DROP RETURN QUEUE REJECT LOG NFLOG NFQUEUE MASQUERADE SNAT DNAT REDIRECT NETMAP MARK CONNMARK ' +
    'CONNSECMARK SECMARK NOTRACK CT TCPMSS TPROXY CHECKSUM TRACE AUDIT CLASSIFY DSCP TOS TTL HL SET ULOG ' +
    'IDLETIMER LED RATEEST SYNPROXY TEE HMARK CLUSTERIP'
  ).split(' '),
);

/** The host's own firewall, as its administrator left it before Kubernetes (the fleet's sshd listens on 2222). */
export const BASELINE: Record<Family, string> = {
  iptables: [
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':host-input - [0:0]',
    '-A INPUT -i lo -j ACCEPT',
    '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
    '-A INPUT -j host-input',
    '-A host-input -p tcp -m tcp --dport 2222 -m comment --comment "fleet sshd" -j ACCEPT',
    '-A host-input -p tcp -m multiport --dports 2379,2380,6443,10250,10257,10259 -j ACCEPT',
    'COMMIT',
    '',
  ].join('\n'),
  ip6tables: [
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A INPUT -i lo -j ACCEPT',
    '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A INPUT -p ipv6-icmp -j ACCEPT',
    '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
    'COMMIT',
    '',
  ].join('\n'),
};

export interface Link {
  name: string;
  type: string;
  index: number;
  mac: string;
}

export const rulesFile = (dir: string, host: string, f: Family): string =>
  path.join(netStateDir(dir, host), `${f}.rules`);
export const linksFile = (dir: string, host: string): string => path.join(netStateDir(dir, host), 'links.json');
export const ipvsFile = (dir: string, host: string): string => path.join(netStateDir(dir, host), 'ipvs');

/** Written by `fleet up` for each stand-in host (readable by the login user: `ip link show` needs no root). */
export function seedNetState(dir: string, host: string): void {
  fs.mkdirSync(netStateDir(dir, host), { recursive: true, mode: 0o755 });
  for (const f of ['iptables', 'ip6tables'] as const) fs.writeFileSync(rulesFile(dir, host, f), BASELINE[f]);
  fs.writeFileSync(linksFile(dir, host), '[]\n');
  fs.writeFileSync(ipvsFile(dir, host), '');
}

export class RestoreError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly code: number,
  ) {
    super(message);
  }
}

/**
 * Tables of iptables-save/iptables-restore text, checked as iptables-restore checks them: a rule's
 * chain and a jump's target chain must be declared in its table, every table ends with COMMIT.
 */
export function parseTables(text: string): Table[] {
  const tables: Table[] = [];
  let t: Table | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      if (t) throw new RestoreError(`COMMIT expected at line ${n}`, n, 1);
      const name = line.slice(1);
      if (!BUILTIN_CHAINS[name]) throw new RestoreError(`table '${name}' does not exist`, n, 1);
      t = { name, chains: [] };
      return;
    }
    if (!t) throw new RestoreError(`no command specified`, n, 2);
    if (line === 'COMMIT') {
      tables.push(t);
      t = undefined;
      return;
    }
    if (line.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)\s*(\[\d+:\d+\])?$/.exec(line);
      if (!m) throw new RestoreError(`Bad chain line`, n, 2);
      const builtin = BUILTIN_CHAINS[t.name].includes(m[1]);
      if (builtin ? !['ACCEPT', 'DROP'].includes(m[2]) : m[2] !== '-')
        throw new RestoreError(`Bad policy name '${m[2]}'`, n, 2);
      t.chains = t.chains.filter((c) => c.name !== m[1]);
      t.chains.push({ name: m[1], policy: m[2], counters: m[3] ?? '[0:0]', rules: [] });
      return;
    }
    const words = line.replace(/"(?:[^"\\]|\\.)*"/g, '""').split(/\s+/);
    if (words[0] !== '-A') throw new RestoreError(`the fleet stand-in only restores -A lines: ${line}`, n, 2);
    const chain = t.chains.find((c) => c.name === words[1]);
    if (!chain) throw new RestoreError(`Chain '${words[1]}' does not exist`, n, 2);
    const j = words.findIndex((w) => w === '-j' || w === '-g' || w === '--jump' || w === '--goto');
    const target = j > 0 ? words[j + 1] : undefined;
    if (target && !TARGETS.has(target) && !t.chains.some((c) => c.name === target))
      throw new RestoreError(`Couldn't load target \`${target}':No such file or directory`, n, 2);
    chain.rules.push(line);
  });
  if (t) throw new RestoreError(`COMMIT expected at line ${lines.length + 1}`, lines.length + 1, 1);
  // Built-in chains a table line left out exist anyway, with policy ACCEPT.
  for (const tb of tables)
    for (const b of BUILTIN_CHAINS[tb.name].slice().reverse())
      if (!tb.chains.some((c) => c.name === b))
        tb.chains.unshift({ name: b, policy: 'ACCEPT', counters: '[0:0]', rules: [] });
  return tables;
}

/** The tables as iptables-save prints them (`header` adds its "# Generated by"/"# Completed on" lines). */
export function formatTables(tables: Table[], header?: { tool: string; date: Date }): string {
  const stamp = header ? ctime(header.date) : '';
  return tables
    .map((t) =>
      [
        ...(header ? [`# Generated by ${header.tool} v1.8.9 (nf_tables) on ${stamp}`] : []),
        `*${t.name}`,
        ...t.chains.map((c) => `:${c.name} ${c.policy} ${c.counters}`),
        ...t.chains.flatMap((c) => c.rules),
        'COMMIT',
        ...(header ? [`# Completed on ${stamp}`] : []),
        '',
      ].join('\n'),
    )
    .join('');
}

/** C's ctime(3) without the newline, as iptables-save stamps its output: "Sat Dec  5 04:35:45 2026". */
function ctime(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const p = (x: number): string => String(x).padStart(2, '0');
  return `${day} ${mon} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

export function readTables(dir: string, host: string, f: Family): Table[] {
  let text = '';
  try {
    text = fs.readFileSync(rulesFile(dir, host, f), 'utf8');
  } catch {
    /* a host seeded before these files existed: nothing yet */
  }
  return parseTables(text);
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

export function writeTables(dir: string, host: string, f: Family, tables: Table[]): void {
  writeAtomic(rulesFile(dir, host, f), formatTables(tables));
}

export function readLinks(dir: string, host: string): Link[] {
  try {
    return JSON.parse(fs.readFileSync(linksFile(dir, host), 'utf8')) as Link[];
  } catch {
    return [];
  }
}

export function writeLinks(dir: string, host: string, links: Link[]): void {
  writeAtomic(linksFile(dir, host), JSON.stringify(links) + '\n');
}

export function readIpvs(dir: string, host: string): string[] {
  try {
    return fs.readFileSync(ipvsFile(dir, host), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export function writeIpvs(dir: string, host: string, services: string[]): void {
  writeAtomic(ipvsFile(dir, host), services.map((s) => s + '\n').join(''));
}

export function addLink(dir: string, host: string, name: string, type: string): boolean {
  const links = readLinks(dir, host);
  if (links.some((l) => l.name === name)) return false;
  const mac = [0x02, ...crypto.randomBytes(5)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  links.push({ name, type, index: 100 + links.length + Math.floor(Math.random() * 50), mac });
  writeLinks(dir, host, links);
  return true;
}

/** kube-proxy's chain-name hash (pkg/proxy/iptables/proxier.go portProtoHash): base32(sha256)[:16]. */
export function portProtoHash(...parts: string[]): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of crypto.createHash('sha256').update(parts.join('')).digest()) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += A[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.slice(0, 16);
}

/**
 * `-m statistic --probability` of the i-th of n endpoints as iptables-save prints it back: kube-proxy
 * writes 1/n with 10 decimals (computeProbability), the kernel keeps it as a fraction of 2^31
 * (xt_statistic), iptables prints that with 11 decimals: 1/3 reads 0.33333333349.
 */
function probability(n: number): string {
  const u = Math.round(Number((1 / n).toFixed(10)) * 0x80000000);
  return (u / 0x80000000).toFixed(11);
}

type Additions = Record<string, { chains: string[]; prepend?: string[]; append?: string[] }>;

/** kube-proxy's base chains and jumps, and the kubernetes Service's cluster IP to `endpoints`. */
function kubeProxy(v6: boolean, podCidr: string, endpoints: string[]): Additions {
  const lb = 'kubernetes load balancer firewall';
  const ext = 'kubernetes externally-visible service portals';
  const svc = v6 ? [] : endpoints;
  const svcChain = `KUBE-SVC-${portProtoHash('default/kubernetes:https', 'tcp')}`;
  const sep = (ep: string): string => `KUBE-SEP-${portProtoHash('default/kubernetes:https', 'tcp', `${ep}:6443`)}`;
  const natChains = [
    'KUBE-KUBELET-CANARY',
    'KUBE-MARK-MASQ',
    'KUBE-NODEPORTS',
    'KUBE-POSTROUTING',
    'KUBE-PROXY-CANARY',
  ];
  return {
    mangle: { chains: ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY', 'KUBE-PROXY-CANARY'] },
    filter: {
      chains: [
        'KUBE-EXTERNAL-SERVICES',
        ...(v6 ? [] : ['KUBE-FIREWALL']),
        'KUBE-FORWARD',
        'KUBE-KUBELET-CANARY',
        'KUBE-NODEPORTS',
        'KUBE-PROXY-CANARY',
        'KUBE-PROXY-FIREWALL',
        'KUBE-SERVICES',
      ],
      prepend: [
        ...(v6 ? [] : ['-A INPUT -j KUBE-FIREWALL', '-A OUTPUT -j KUBE-FIREWALL']),
        `-A INPUT -m conntrack --ctstate NEW -m comment --comment "${ext}" -j KUBE-EXTERNAL-SERVICES`,
        '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        `-A INPUT -m conntrack --ctstate NEW -m comment --comment "${lb}" -j KUBE-PROXY-FIREWALL`,
        `-A FORWARD -m conntrack --ctstate NEW -m comment --comment "${ext}" -j KUBE-EXTERNAL-SERVICES`,
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        `-A FORWARD -m conntrack --ctstate NEW -m comment --comment "${lb}" -j KUBE-PROXY-FIREWALL`,
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        `-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "${lb}" -j KUBE-PROXY-FIREWALL`,
      ],
      append: [
        ...(v6
          ? []
          : [
              '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
            ]),
        '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      ],
    },
    nat: {
      chains: [...natChains, 'KUBE-SERVICES', ...(svc.length ? [svcChain, ...svc.map(sep)] : [])],
      prepend: [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      ],
      append: [
        '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
        '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
        ...svc.flatMap((ep) => [
          `-A ${sep(ep)} -s ${ep}/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ`,
          `-A ${sep(ep)} -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination ${ep}:6443`,
        ]),
        ...(svc.length
          ? [
              `-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j ${svcChain}`,
            ]
          : []),
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
        ...(svc.length
          ? [
              `-A ${svcChain} ! -s ${podCidr} -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-MARK-MASQ`,
              ...svc.map((ep, i) =>
                i < svc.length - 1
                  ? `-A ${svcChain} -m comment --comment "default/kubernetes:https -> ${ep}:6443" -m statistic --mode random --probability ${probability(svc.length - i)} -j ${sep(ep)}`
                  : `-A ${svcChain} -m comment --comment "default/kubernetes:https -> ${ep}:6443" -j ${sep(ep)}`,
              ),
            ]
          : []),
      ],
    },
  };
}

/** flannel's masquerade and forward rules for the cluster network and this node's lease. */
function flannel(cidr: string, lease: string): Additions {
  const masq = '-m comment --comment "flanneld masq"';
  return {
    filter: {
      chains: ['FLANNEL-FWD'],
      append: [
        '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
        `-A FLANNEL-FWD -s ${cidr} -m comment --comment "flanneld forward" -j ACCEPT`,
        `-A FLANNEL-FWD -d ${cidr} -m comment --comment "flanneld forward" -j ACCEPT`,
      ],
    },
    nat: {
      chains: ['FLANNEL-POSTRTG'],
      append: [
        `-A POSTROUTING ${masq} -j FLANNEL-POSTRTG`,
        `-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 ${masq} -j RETURN`,
        `-A FLANNEL-POSTRTG -s ${lease} -d ${cidr} ${masq} -j RETURN`,
        `-A FLANNEL-POSTRTG -s ${cidr} -d ${lease} ${masq} -j RETURN`,
        `-A FLANNEL-POSTRTG ! -s ${cidr} -d ${lease} ${masq} -j RETURN`,
        `-A FLANNEL-POSTRTG -s ${cidr} ! -d 224.0.0.0/4 ${masq} -j MASQUERADE --random-fully`,
        `-A FLANNEL-POSTRTG ! -s ${cidr} -d ${cidr} ${masq} -j MASQUERADE --random-fully`,
      ],
    },
  };
}

function apply(tables: Table[], add: Additions): void {
  for (const [name, a] of Object.entries(add)) {
    let t = tables.find((x) => x.name === name);
    if (!t) {
      t = {
        name,
        chains: BUILTIN_CHAINS[name].map((c) => ({ name: c, policy: 'ACCEPT', counters: '[0:0]', rules: [] })),
      };
      tables.push(t);
    }
    for (const c of a.chains)
      if (!t.chains.some((x) => x.name === c)) t.chains.push({ name: c, policy: '-', counters: '[0:0]', rules: [] });
    const chainOf = (rule: string): Chain => t.chains.find((c) => c.name === rule.split(' ')[1])!;
    // EnsureRule(Prepend, ...) for each jump in turn: the last one listed ends up first.
    for (const r of a.prepend ?? []) if (!chainOf(r).rules.includes(r)) chainOf(r).rules.unshift(r);
    for (const r of a.append ?? []) if (!chainOf(r).rules.includes(r)) chainOf(r).rules.push(r);
  }
}

/**
 * What a node's network looks like once the kubelet, kube-proxy (iptables mode) and flannel ran on
 * it: their iptables and ip6tables chains and rules, flannel.1 and cni0. Idempotent (a rule already
 * there is not added twice); the host's own rules stay where they were.
 */
export function addNodeNetwork(
  dir: string,
  host: string,
  o: { podCidr?: string; nodeIndex: number; apiServers: string[] },
): void {
  const cidr = o.podCidr && /^\d+\.\d+\.0\.0\/16$/.test(o.podCidr) ? o.podCidr : '10.244.0.0/16';
  const lease = cidr.replace(/\.0\.0\/16$/, `.${o.nodeIndex % 256}.0/24`);
  const v4 = readTables(dir, host, 'iptables');
  apply(v4, kubeProxy(false, cidr, o.apiServers));
  apply(v4, flannel(cidr, lease));
  writeTables(dir, host, 'iptables', v4);
  const v6 = readTables(dir, host, 'ip6tables');
  apply(v6, kubeProxy(true, cidr, []));
  writeTables(dir, host, 'ip6tables', v6);
  addLink(dir, host, 'flannel.1', 'vxlan');
  addLink(dir, host, 'cni0', 'bridge');
}

/**
 * Called by the stand-in kubeadm once init or join succeeded, on the node it ran on: the kubelet
 * runs, and kube-proxy's and flannel's DaemonSet pods start on the new Node (the fleet does not
 * model when), so the node's network gets their chains, rules and devices.
 */
export function kubernetesNetworkRan(nodeName: string): void {
  const e = hostEnv();
  const s = readState(e.dir);
  const networking = (s.clusterConfiguration as { networking?: { podSubnet?: string } }).networking;
  const apiServers = Object.values(s.nodes)
    .filter((n) => n.role === 'control-plane')
    .map((n) => n.address);
  addNodeNetwork(e.dir, e.host, {
    podCidr: networking?.podSubnet,
    nodeIndex: Math.max(0, Object.keys(s.nodes).indexOf(nodeName)),
    apiServers: apiServers.length ? apiServers : [e.address],
  });
}
