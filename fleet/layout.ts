// Paths and constants shared by the fleet manager (parent view) and the stand-ins (run inside a
// host's mount namespace). Everything here is an absolute path under the fleet dir, which is not
// bind-mounted, so every host and the parent see the same files.
import * as path from 'node:path';

export const SSH_PORT = 2222;
export const LB_ADDRESS = '127.0.30.1';
export const LB_PORT = 6443;
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
];

export const controlPlaneAddress = (i: number): string => `127.0.10.${i}`;
export const workerAddress = (i: number): string => `127.0.20.${i}`;

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

/** iptables comment tag so `down` can find our rules even after a crash. */
export function iptablesTag(dir: string): string {
  return `kha-fleet:${path.resolve(dir)}`.slice(0, 250);
}
