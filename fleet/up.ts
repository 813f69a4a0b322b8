// fleet up / down / status.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DEFAULT_K8S_VERSION,
  LB_PORT,
  MAX_CONTROL_PLANES,
  MAX_ETCD_HOSTS,
  MAX_WORKERS,
  SSH_PORT,
  bastionAddress,
  clusterDir,
  controlPlaneAddress,
  etcdAddress,
  fleetFile,
  hostDir,
  lbAddress,
  workerAddress,
} from './layout';
import { prepareMachine } from './system';
import { HostSetup, inBatches, prepareHost, startHosts, stopHosts } from './hosts';
import { haproxyPid, removeDrops, startHaproxy, stopHaproxy, writeHaproxyConfig } from './lb';
import { writeClientKey, writeClusterFile, writeCniManifest } from './files';
import { alive, readPid } from './proc';
import { claimSlot, releaseSlots, slotsOf } from './slots';
import { addAddresses, removeAddresses } from './addresses';
import { setTiming } from './timing';
import { FleetHost, FleetInfo, FleetOptions } from './types';
import {
  FLEET_CLUSTER_FILE_LINES,
  flannelManifest,
  RealArtifacts,
  RealHostSetup,
  fabricGateway,
  prepareRealHost,
  realArtifacts,
  startFabric,
  startRealHost,
  stopRealFleet,
} from './real/nodes';
import { MAX_REAL_WORKERS, realWorkerAddress } from './layout';

export async function fleetUp(opts: FleetOptions): Promise<FleetInfo> {
  const dir = path.resolve(opts.dir);
  const version = opts.kubernetesVersion ?? DEFAULT_K8S_VERSION;
  if (!/^v1\.\d+\.\d+$/.test(version)) throw new Error(`bad --kubernetes-version ${version}`);
  if (
    opts.controlPlanes < 1 ||
    opts.controlPlanes > MAX_CONTROL_PLANES ||
    opts.workers < 0 ||
    opts.workers > MAX_WORKERS
  ) {
    throw new Error(`control planes must be 1..${MAX_CONTROL_PLANES}, workers 0..${MAX_WORKERS}`);
  }
  const etcdHosts = opts.etcdHosts ?? 0;
  if (!Number.isInteger(etcdHosts) || etcdHosts < 0 || etcdHosts > MAX_ETCD_HOSTS)
    throw new Error(`etcd hosts must be 0..${MAX_ETCD_HOSTS}`);
  if (opts.upgradeImages !== undefined) {
    if (!opts.real) throw new Error('--upgrade-images needs a real fleet (--real)');
    if (!/^v1\.\d+\.\d+$/.test(opts.upgradeImages)) throw new Error(`bad --upgrade-images ${opts.upgradeImages}`);
  }
  if (opts.real) {
    if (opts.bastion) throw new Error('a real fleet has no bastion yet');
    if (opts.workers > MAX_REAL_WORKERS) throw new Error(`a real fleet has at most ${MAX_REAL_WORKERS} workers`);
    // Each node overlays these directories of the machine, which must not hold its own folder.
    const clash = ['/etc', '/usr', '/opt', '/var'].find((d) => dir === d || dir.startsWith(d + '/'));
    if (clash)
      throw new Error(
        `a real fleet's folder cannot be under ${clash}: each node lays its own ${clash} over the machine's; choose another --dir`,
      );
  }
  if (!opts.real && etcdHosts && !fs.existsSync('/usr/bin/etcd'))
    throw new Error(
      'etcd hosts need /usr/bin/etcd (Debian package etcd-server); install it with: bash scripts/setup.sh',
    );
  fs.mkdirSync(dir, { recursive: true });
  // The login user writes the invocation log and reads pid files here (kubeadm or systemctl without
  // sudo); mkdtemp makes it 0700.
  fs.chmodSync(dir, 0o755);
  // Re-running up replaces the previous fleet in this dir.
  if (fs.existsSync(fleetFile(dir)) || fs.existsSync(path.join(dir, 'hosts'))) await fleetDown(dir);
  prepareMachine();
  const artifacts = opts.real
    ? {
        ...realArtifacts(version),
        ...(opts.upgradeImages ? { upgradeImages: realArtifacts(opts.upgradeImages).images } : {}),
      }
    : undefined;
  const slot = claimSlot(dir, opts.slot);
  const lb = lbAddress(slot);
  for (const f of ['faults.json', 'known_hosts', 'timing.json']) fs.rmSync(path.join(dir, f), { force: true });
  fs.rmSync(clusterDir(dir), { recursive: true, force: true });
  fs.rmSync(path.join(dir, 'hosts'), { recursive: true, force: true });
  fs.mkdirSync(clusterDir(dir), { recursive: true });

  setTiming(dir, opts.timing ?? {});
  const pub = writeClientKey(dir);
  if (artifacts) return realFleetUp(dir, slot, version, opts, pub, artifacts);
  const setups: HostSetup[] = [];
  const common = { dir, lbAddress: lb, kubernetesVersion: version, discoveryTimeout: opts.discoveryTimeout ?? '5m0s' };
  for (let i = 1; i <= opts.controlPlanes; i++)
    setups.push({ ...common, name: `cp${i}`, role: 'control-plane', address: controlPlaneAddress(slot, i) });
  for (let i = 1; i <= opts.workers; i++)
    setups.push({ ...common, name: `w${i}`, role: 'worker', address: workerAddress(slot, i) });
  for (let i = 1; i <= etcdHosts; i++)
    setups.push({ ...common, name: `etcd${i}`, role: 'etcd', address: etcdAddress(slot, i) });
  // On 127/8 like the workers: no address to add to lo.
  if (opts.bastion) setups.push({ ...common, name: 'bastion', role: 'bastion', address: bastionAddress(slot) });

  addAddresses(setups.filter((h) => h.role !== 'worker' && h.role !== 'bastion').map((h) => h.address));
  const known = await inBatches(setups, (h) => prepareHost(h, pub, setups));
  fs.writeFileSync(path.join(dir, 'known_hosts'), known.join('\n') + '\n');
  const hosts: FleetHost[] = [];
  let bastion: FleetHost | undefined;
  try {
    const pids = await startHosts(
      dir,
      setups.map((h) => h.name),
    );
    setups.forEach((h, i) => {
      const fh: FleetHost = { name: h.name, role: h.role, address: h.address, port: SSH_PORT, sshdPid: pids[i] };
      if (h.role === 'bastion') bastion = fh;
      else hosts.push(fh);
    });
    writeHaproxyConfig(
      dir,
      lb,
      setups.filter((h) => h.role === 'control-plane'),
    );
    const lbPid = startHaproxy(dir);
    const clusterName = slot === 0 ? 'fleet' : `fleet-${slot}`;
    const info: FleetInfo = {
      dir,
      slot,
      clusterName,
      kubernetesVersion: version,
      hosts,
      ...(bastion ? { bastion } : {}),
      loadBalancer: { host: lb, port: LB_PORT, pid: lbPid },
      clusterFile: writeClusterFile(dir, clusterName, version, lb, hosts),
      privateKeyFile: path.join(dir, 'id_ed25519'),
      knownHostsFile: path.join(dir, 'known_hosts'),
      cniManifest: writeCniManifest(dir),
      createdAt: new Date().toISOString(),
    };
    fs.writeFileSync(fleetFile(dir), JSON.stringify(info, null, 2) + '\n');
    return info;
  } catch (e) {
    fs.writeFileSync(fleetFile(dir), JSON.stringify({ dir, hosts }, null, 2));
    await fleetDown(dir);
    throw e;
  }
}

async function realFleetUp(
  dir: string,
  slot: number,
  version: string,
  opts: FleetOptions,
  pub: string,
  artifacts: RealArtifacts,
): Promise<FleetInfo> {
  const setups: RealHostSetup[] = [];
  const common = { dir, slot, kubernetesVersion: version };
  for (let i = 1; i <= opts.controlPlanes; i++)
    setups.push({ ...common, name: `cp${i}`, role: 'control-plane', address: controlPlaneAddress(slot, i) });
  for (let i = 1; i <= opts.workers; i++)
    setups.push({ ...common, name: `w${i}`, role: 'worker', address: realWorkerAddress(slot, i) });
  for (let i = 1; i <= (opts.etcdHosts ?? 0); i++)
    setups.push({ ...common, name: `etcd${i}`, role: 'etcd', address: etcdAddress(slot, i) });
  const lb = fabricGateway(slot);
  const peers = [...setups, { name: 'kubernetes-lb', address: lb }];
  const known = setups.map((h) => prepareRealHost(h, pub, peers, artifacts));
  fs.writeFileSync(path.join(dir, 'known_hosts'), known.join('\n') + '\n');
  const hosts: FleetHost[] = setups.map((h) => ({
    name: h.name,
    role: h.role,
    address: h.address,
    port: SSH_PORT,
    sshdPid: 0,
  }));
  // Recorded first, so that down finds the slot even if the start fails half-way.
  fs.writeFileSync(fleetFile(dir), JSON.stringify({ dir, slot, real: true, hosts }, null, 2));
  try {
    addAddresses(setups.map((h) => h.address));
    await startFabric(
      dir,
      slot,
      setups.filter((h) => h.role === 'control-plane'),
    );
    const holders = await Promise.all(setups.map((h) => startRealHost(h, artifacts)));
    hosts.forEach((h, i) => {
      h.sshdPid = holders[i];
    });
    const clusterName = slot === 0 ? 'fleet' : `fleet-${slot}`;
    const cniManifest = path.join(dir, 'cni.yaml');
    fs.copyFileSync(flannelManifest(), cniManifest);
    const info: FleetInfo = {
      dir,
      slot,
      clusterName,
      kubernetesVersion: version,
      hosts,
      real: true,
      ...(opts.upgradeImages ? { upgradeImages: opts.upgradeImages } : {}),
      loadBalancer: { host: lb, port: LB_PORT, pid: haproxyPid(dir) },
      clusterFile: writeClusterFile(dir, clusterName, version, lb, hosts, FLEET_CLUSTER_FILE_LINES),
      privateKeyFile: path.join(dir, 'id_ed25519'),
      knownHostsFile: path.join(dir, 'known_hosts'),
      cniManifest,
      createdAt: new Date().toISOString(),
    };
    fs.writeFileSync(fleetFile(dir), JSON.stringify(info, null, 2) + '\n');
    return info;
  } catch (e) {
    await fleetDown(dir);
    throw e;
  }
}

/** Stops everything this fleet started, found through pid files and cgroups (works after a crash). */
export async function fleetDown(dir: string): Promise<void> {
  dir = path.resolve(dir);
  stopRealFleet(slotsOf(dir));
  removeDrops(dir);
  stopHaproxy(dir);
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(dir, 'hosts'));
  } catch {
    /* nothing was started */
  }
  stopHosts(dir, names);
  // A real node's layers, containerd snapshots and pod volumes (gigabytes); its logs stay for a look.
  for (const n of names)
    for (const sub of ['layers', 'var', 'root', 'home'])
      fs.rmSync(path.join(dir, 'hosts', n, sub), { recursive: true, force: true });
  for (const slot of slotsOf(dir)) removeAddresses({ slot });
  // Mount namespaces vanish with their last process; nothing is mounted in the parent view.
  fs.rmSync(fleetFile(dir), { force: true });
  releaseSlots(dir);
}

export interface FleetStatus {
  dir: string;
  up: boolean;
  hosts: Array<{ name: string; address: string; sshd: boolean; daemons: Record<string, boolean> }>;
  loadBalancer: { running: boolean };
}

export function fleetStatus(dir: string): FleetStatus {
  dir = path.resolve(dir);
  let info: FleetInfo | undefined;
  try {
    info = JSON.parse(fs.readFileSync(fleetFile(dir), 'utf8')) as FleetInfo;
  } catch {
    /* not up */
  }
  const hosts = (info?.hosts ?? []).map((h) => {
    const run = path.join(hostDir(dir, h.name), 'run');
    const daemons: Record<string, boolean> = {};
    for (const f of fs.existsSync(run) ? fs.readdirSync(run) : []) {
      if (f.endsWith('.pid') && f !== 'sshd.pid') daemons[f.slice(0, -4)] = alive(readPid(path.join(run, f)));
    }
    return { name: h.name, address: h.address, sshd: alive(readPid(path.join(run, 'sshd.pid'))), daemons };
  });
  return { dir, up: !!info, hosts, loadBalancer: { running: haproxyPid(dir) > 0 } };
}
