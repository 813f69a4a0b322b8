// Paths and constants shared by the fleet manager (parent view) and the stand-ins (run inside a
// host's mount namespace). Everything here is an absolute path under the fleet dir, which is not
// bind-mounted, so every host and the parent see the same files.
import * as path from 'node:path';

export const SSH_PORT = 2222;
export const LB_PORT = 6443;
/** Fleets side by side: slot S owns 127.S.0.0/16 and 198.18.S.0/24 (slot 0: the addresses of docs/ and the demo). */
export const MAX_SLOT = 99;
/** The bench's largest fleet (docs/benchmark.md): 127.S.20.x to 127.S.23.x. */
export const MAX_WORKERS = 1000;
export const MAX_CONTROL_PLANES = 29;
export const MAX_ETCD_HOSTS = 7;
export const DEFAULT_K8S_VERSION = 'v1.31.4';
export const LOGIN_USER = 'kha';

/** Directories bind-mounted per host: target in the namespace -> sub-dir name under hosts/<name>/. */
export const HOST_MOUNTS: ReadonlyArray<[string, string]> = [
  ['/etc/kubernetes', 'etc-kubernetes'],
  ['/var/lib/kubelet', 'var-lib-kubelet'],
  ['/var/lib/etcd', 'var-lib-etcd'],
  ['/var/lib/kubeadm-ha', 'var-lib-kubeadm-ha'],
  ['/home/kha', 'home-kha'],
  ['/usr/local/sbin', 'usr-local-sbin'],
  // Unit drop-ins (the external-etcd guide writes kubelet.service.d/ here); no systemd reads them.
  ['/etc/systemd/system', 'etc-systemd-system'],
  // Holds CODE_MOUNT.
  ['/opt', 'opt'],
  // What `kubeadm reset` leaves and the reset cleanup removes (src/kubeadm/reset.ts): each host's own,
  // never the machine's.
  ['/etc/cni', 'etc-cni'],
  ['/root/.kube', 'root-kube'],
];

/**
 * Where a host sees the project (lib/, node_modules/, .tools/), bind-mounted: the login user runs the
 * stand-ins from there even when the clone's parents are 0700 (root's home, mktemp -d).
 */
export const CODE_MOUNT = '/opt/kubeadm-ha-fleet';

/**
 * Control planes (and etcd members) are advertised by kubeadm, which refuses a loopback advertise
 * address (it then looks for a global address on lo: "unable to select an IP from lo network
 * interface", ChooseBindAddress in k8s.io/apimachinery/pkg/util/net). They get addresses from
 * 198.18.0.0/15 (RFC 2544, never routed), added to lo by `fleet up`: 198.18.S.1x and 198.18.S.4x.
 */
export const NODE_NET = '198.18';
export const controlPlaneAddress = (slot: number, i: number): string => `${NODE_NET}.${slot}.${10 + i}`;
export const etcdAddress = (slot: number, i: number): string => `${NODE_NET}.${slot}.${40 + i}`;
/** 250 workers per /24 (127.S.20.x to 127.S.23.x): .0 and .255 stay unused. */
export const workerAddress = (slot: number, i: number): string =>
  `127.${slot}.${20 + Math.floor((i - 1) / 250)}.${((i - 1) % 250) + 1}`;
export const lbAddress = (slot: number): string => `127.${slot}.30.1`;
/** Real fleets (fleet/real): workers are nodes on the fabric network too, 198.18.S.101 and up. */
export const MAX_REAL_WORKERS = 50;
export const realWorkerAddress = (slot: number, i: number): string => `${NODE_NET}.${slot}.${100 + i}`;
export const bastionAddress = (slot: number): string => `127.${slot}.31.1`;

export function hostDir(dir: string, name: string): string {
  return path.join(dir, 'hosts', name);
}
/** Pid files of everything that runs "on" a host (sshd, stand-in daemons) live here. */
export function runDir(dir: string, name: string): string {
  return path.join(hostDir(dir, name), 'run');
}
export function logDir(dir: string, name: string): string {
  return path.join(hostDir(dir, name), 'logs');
}
export const clusterDir = (dir: string): string => path.join(dir, 'cluster');
export const lbDir = (dir: string): string => path.join(dir, 'lb');
export const faultsFile = (dir: string): string => path.join(dir, 'faults.json');
export const fleetFile = (dir: string): string => path.join(dir, 'fleet.json');
export const timingFile = (dir: string): string => path.join(dir, 'timing.json');
export const invocationsFile = (dir: string, name: string): string =>
  path.join(logDir(dir, name), 'kubeadm-invocations.jsonl');
/** The network stand-ins' log (iptables-save/-restore, ip6tables-save/-restore, ip, ipvsadm): argv[0] is the tool. */
export const netInvocationsFile = (dir: string, name: string): string =>
  path.join(logDir(dir, name), 'net-invocations.jsonl');
/** A stand-in host's iptables, ip6tables, devices and IPVS services (standins/netstate.ts). */
export const netStateDir = (dir: string, name: string): string => path.join(hostDir(dir, name), 'net');

/** iptables comment tag so `down` can find our rules even after a crash. */
export function iptablesTag(dir: string): string {
  return `kha-fleet:${path.resolve(dir)}`.slice(0, 250);
}
