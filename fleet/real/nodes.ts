// The real fleet: each host is a Linux node of its own (network, mount, UTS and IPC namespaces, a
// cgroup) running Debian's containerd and runc, the real kubelet under a service loop, and sshd. The
// nodes sit on a bridge in a "fabric" network namespace, where HAProxy balances the API servers.
// The machine's own network is not touched beyond the fleet's addresses on lo, through which SSH
// reaches each node (see node-init.sh).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { LOGIN_USER, hostDir, invocationsFile, lbDir, logDir, runDir } from '../layout';
import { userIds } from '../system';
import { kubernetesBinDir, repoRoot } from '../real-kubeadm';
import { alive, readPid, sh } from '../proc';
import { sshdConfig } from '../hosts';
import { writeHaproxyConfig } from '../lb';
import { HostRole } from '../types';
import { cgroupName, createCgroup, joinCgroupScript, removeCgroup, slotCgroups } from './cgroups';

export interface RealHostSetup {
  dir: string;
  slot: number;
  name: string;
  role: Exclude<HostRole, 'bastion'>;
  address: string;
  kubernetesVersion: string;
}

/** Prefix length of the fabric network 198.18.<slot>.0/24. */
const PREFIX = 24;
export const fabricGateway = (slot: number): string => `198.18.${slot}.1`;

/**
 * Preflight checks that fail on a fleet node by its nature, and only those. This machine has cgroup
 * v1, and SystemVerification refuses it from kubelet 1.35 on: "cgroups v1 support is deprecated ...
 * you must set the kubelet configuration option 'FailCgroupV1' to 'false'. You must also explicitly
 * skip this validation" (KEP-5573). Every other check runs.
 */
const IGNORED_PREFLIGHT = ['SystemVerification'];

/**
 * The cluster file's lines for a real fleet: the preflight check above; the kubelet settings of a
 * machine without systemd on cgroup v1 (cgroupfs, and cgroup v1 allowed: failCgroupV1 refuses it
 * from 1.35 on), for every node and the etcd hosts' static-pod kubelet alike; and kube-proxy leaving
 * nf_conntrack_max alone, which only the machine's own network namespace may set (kube-proxy 1.36
 * writes it whatever its value, "open /proc/sys/net/netfilter/nf_conntrack_max: permission denied";
 * kind sets the same).
 */
export const FLEET_CLUSTER_FILE_LINES = [
  'kubeadm:',
  `  ignorePreflightErrors: [${IGNORED_PREFLIGHT.join(', ')}]`,
  'kubeletConfiguration: { cgroupDriver: cgroupfs, failCgroupV1: false }',
  'kubeProxyConfiguration: { conntrack: { maxPerCore: 0 } }',
];

export interface RealArtifacts {
  bin: string;
  cni: string;
  images: string;
  /** A second release's images folder, also imported on each node (FleetOptions.upgradeImages). */
  upgradeImages?: string;
}

export const flannelManifest = (): string => path.join(ASSETS(), 'flannel.yaml');

/** The built binaries, CNI plugins and images of this release, or an error that says how to build them. */
export function realArtifacts(version: string): RealArtifacts {
  const tools: Array<[string, string]> = [
    ['/usr/bin/containerd', 'containerd'],
    ['/usr/sbin/runc', 'runc'],
    ['/usr/bin/socat', 'socat'],
    ['/usr/bin/nsenter', 'util-linux'],
  ];
  const absent = tools.filter(([f]) => !fs.existsSync(f));
  if (absent.length)
    throw new Error(
      `a real fleet needs ${absent.map(([f, p]) => `${f} (Debian package ${p})`).join(', ')}; install them with: bash scripts/setup.sh`,
    );
  const cache = path.join(repoRoot(), '.tools');
  const a = {
    bin: kubernetesBinDir(version),
    cni: path.join(cache, 'components', 'cni-plugins'),
    images: path.join(cache, 'images', version),
  };
  const missing = [path.join(a.bin, 'kubelet'), path.join(a.cni, 'bridge'), path.join(a.images, 'images.tsv')].filter(
    (f) => !fs.existsSync(f),
  );
  if (missing.length)
    throw new Error(
      `the real fleet of ${version} needs ${missing.join(', ')}; build them with: bash scripts/build-real.sh ${version}`,
    );
  return a;
}

/** The node's scripts and the flannel manifest, in the source tree (tsc copies no shell files). */
const ASSETS = (): string => path.join(repoRoot(), 'fleet', 'real');

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function containerdConfig(pauseRef: string): string {
  return `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseRef}"
  # This machine's capability bounding set lacks CAP_SYS_RESOURCE, so a negative oom_score_adj
  # (the pause container asks for -998) fails in runc; clamp to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
`;
}

/** Writes the node's folder; returns its known_hosts line. */
export function prepareRealHost(
  h: RealHostSetup,
  clientPub: string,
  peers: Array<{ name: string; address: string }>,
  artifacts: RealArtifacts,
): string {
  const d = hostDir(h.dir, h.name);
  fs.rmSync(d, { recursive: true, force: true });
  for (const sub of ['run', 'logs', path.join('home', LOGIN_USER), 'root'])
    fs.mkdirSync(path.join(d, sub), { recursive: true });
  const { uid, gid } = userIds(LOGIN_USER);
  fs.chownSync(path.join(d, 'home', LOGIN_USER), uid, gid);
  fs.chmodSync(d, 0o755);
  const images = fs.readFileSync(path.join(artifacts.images, 'images.tsv'), 'utf8');
  const pause = /registry\.k8s\.io\/pause:\S+/.exec(images)?.[0];
  if (!pause) throw new Error(`${artifacts.images}/images.tsv lists no pause image`);
  fs.writeFileSync(path.join(d, 'containerd.toml'), containerdConfig(pause));
  fs.copyFileSync(path.join(ASSETS(), 'systemctl.sh'), path.join(d, 'systemctl'));
  for (const f of ['kubelet-service.py', 'kubelet.service', '10-kubeadm.conf'])
    fs.copyFileSync(path.join(ASSETS(), f), path.join(d, f));
  fs.copyFileSync(path.join(ASSETS(), 'kubeadm-audit.py'), path.join(d, 'kubeadm-audit'));
  // kubeadm without sudo (`kubeadm version`) is recorded too.
  fs.writeFileSync(invocationsFile(h.dir, h.name), '', { mode: 0o666 });
  fs.chmodSync(invocationsFile(h.dir, h.name), 0o666);
  // As the kubelet package leaves it: enabled and started (crash-looping until kubeadm writes its config).
  fs.writeFileSync(path.join(d, 'run', 'kubelet.enabled'), '');
  fs.writeFileSync(path.join(d, 'run', 'kubelet.wanted'), '');
  const hostsFile = '127.0.0.1\tlocalhost\n' + peers.map((p) => `${p.address}\t${p.name}\n`).join('');
  fs.writeFileSync(path.join(d, 'etc-hosts'), hostsFile);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${d}/ssh_host_ed25519_key`, '-C', h.name]);
  fs.writeFileSync(`${d}/authorized_keys`, clientPub, { mode: 0o644 });
  fs.writeFileSync(`${d}/sshd_config`, sshdConfig(h, '/run/kha-node/host'));
  const pub = fs.readFileSync(`${d}/ssh_host_ed25519_key.pub`, 'utf8').trim().split(/\s+/);
  return `[${h.address}]:2222 ${pub[0]} ${pub[1]}`;
}

function spawnInCgroup(cg: string, command: string, env: Record<string, string> = {}): void {
  createCgroup(cg);
  const child = spawn('/bin/sh', ['-c', `${joinCgroupScript(cg)} && exec ${command}`], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  child.unref();
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number, logHint: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`${what} within ${timeoutMs / 1000} s; see ${logHint}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const fabricPidFile = (dir: string): string => path.join(lbDir(dir), 'fabric.pid');

/** The fabric: a network namespace holding the bridge (the nodes' gateway) and HAProxy on the load balancer address. */
export async function startFabric(
  dir: string,
  slot: number,
  controlPlanes: Array<{ name: string; address: string }>,
): Promise<void> {
  const cfg = writeHaproxyConfig(dir, fabricGateway(slot), controlPlanes);
  const d = lbDir(dir);
  sh('haproxy', ['-c', '-q', '-f', cfg]);
  const script = [
    `echo $$ > ${q(fabricPidFile(dir))}`,
    'ip link set lo up',
    'ip link add br0 type bridge',
    `ip addr add ${fabricGateway(slot)}/${PREFIX} dev br0`,
    'ip link set br0 up',
    `haproxy -f ${q(cfg)} -D -p ${q(path.join(d, 'haproxy.pid'))}`,
    'exec sleep infinity',
  ].join(' && ');
  fs.rmSync(fabricPidFile(dir), { force: true });
  spawnInCgroup(cgroupName(slot, 'fabric'), `unshare --net --fork -- /bin/sh -c ${q(script)}`);
  await waitFor('the fleet network did not come up', () => alive(readPid(path.join(d, 'haproxy.pid'))), 10_000, d);
}

/** Starts a node and waits until it runs containerd with its images, the kubelet's service and sshd. */
export async function startRealHost(
  h: RealHostSetup,
  artifacts: RealArtifacts,
  readyTimeoutMs = 300_000,
): Promise<number> {
  const d = hostDir(h.dir, h.name);
  const run = runDir(h.dir, h.name);
  const cg = cgroupName(h.slot, h.name);
  spawnInCgroup(
    cg,
    `unshare --mount --net --uts --ipc --propagation private --fork -- /bin/sh ${q(path.join(ASSETS(), 'node-init.sh'))}`,
    {
      KHA_HOST_DIR: d,
      KHA_BIN: artifacts.bin,
      KHA_CNI: artifacts.cni,
      KHA_IMAGES: artifacts.images,
      KHA_NODE: h.name,
      KHA_ADDRESS: h.address,
      KHA_GATEWAY: fabricGateway(h.slot),
      KHA_ROLE: h.role,
      KHA_CGROUP: cg,
      ...(artifacts.upgradeImages ? { KHA_UPGRADE_IMAGES: artifacts.upgradeImages } : {}),
    },
  );
  const log = path.join(logDir(h.dir, h.name), 'node-init.log');
  await waitFor(`${h.name} did not start`, () => fs.existsSync(path.join(run, 'holder.pid')), 10_000, log);
  const holder = readPid(path.join(run, 'holder.pid'))!;
  const fabric = readPid(fabricPidFile(h.dir));
  if (!fabric) throw new Error('the fleet network is not up');
  // A veth pair: the node's eth0, and its peer on the fabric bridge (named after the node, <= 15 chars).
  const peer = `v-${h.name}`.slice(0, 15);
  sh('nsenter', [
    `--net=/proc/${fabric}/ns/net`,
    'sh',
    '-c',
    `ip link add ${q(peer)} type veth peer name eth0 netns ${holder} && ip link set ${q(peer)} master br0 && ip link set ${q(peer)} up`,
  ]);
  sh('nsenter', [
    `--net=/proc/${holder}/ns/net`,
    'sh',
    '-c',
    `ip link set lo up && ip addr add ${h.address}/${PREFIX} dev eth0 && ip link set eth0 up && ip route add default via ${fabricGateway(h.slot)}`,
  ]);
  fs.writeFileSync(path.join(run, 'net-ready'), '');
  await waitFor(
    `${h.name} did not get ready (containerd, images, sshd)`,
    () => fs.existsSync(path.join(run, 'ready')) || !alive(holder),
    readyTimeoutMs,
    log,
  );
  if (!alive(holder)) throw new Error(`${h.name} stopped while starting; see ${log}`);
  // SSH from the machine: its address on lo, relayed into the node through the socket in its folder
  // (seen from the node's mount namespace, so the fleet folder's own path needs no quoting for socat).
  spawnInCgroup(
    cg,
    `nsenter --mount=/proc/${holder}/ns/mnt -- socat TCP-LISTEN:2222,bind=${h.address},reuseaddr,fork UNIX-CONNECT:/run/kha-node/host/run/ssh.sock`,
  );
  await waitFor(`${h.name}'s SSH relay did not listen`, () => listening(h.address, 2222), 10_000, log);
  return holder;
}

function listening(address: string, port: number): boolean {
  const hex =
    address
      .split('.')
      .map(Number)
      .reverse()
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('')
      .toUpperCase() +
    ':' +
    port.toString(16).toUpperCase().padStart(4, '0');
  return fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .some((l) => l.trim().split(/\s+/)[1] === hex && l.trim().split(/\s+/)[3] === '0A');
}

/** Stops every node, the fabric and HAProxy of these slots: all processes in their cgroups. */
export function stopRealFleet(slots: number[]): void {
  for (const slot of slots) for (const cg of slotCgroups(slot)) removeCgroup(cg);
}
