// Public shapes of the fleet API (also written to <dir>/fleet.json).

export type HostRole = 'control-plane' | 'worker';

export interface FleetOptions {
  dir: string;
  controlPlanes: number;
  workers: number;
  /** Emulated Kubernetes/kubeadm version, default v1.31.4. */
  kubernetesVersion?: string;
  /** Default discovery timeout of stand-in `kubeadm join` when its config sets none (Go duration). */
  discoveryTimeout?: string;
}

export interface FleetHost {
  name: string;
  role: HostRole;
  address: string;
  port: number;
  /** pid of the host's sshd (the namespace lives as long as processes run in it). */
  sshdPid: number;
}

export interface FleetInfo {
  dir: string;
  kubernetesVersion: string;
  hosts: FleetHost[];
  loadBalancer: { host: string; port: number; pid: number };
  clusterFile: string;
  privateKeyFile: string;
  knownHostsFile: string;
  cniManifest: string;
  createdAt: string;
}

export type CommandFaultMode = 'fail-once' | 'hang' | 'slow';

export interface CommandFault {
  /** Prefix of the command line, e.g. "kubeadm join". */
  command: string;
  mode: CommandFaultMode;
  delayMs?: number;
  message?: string;
  /** fail-once faults are consumed. */
  consumed?: boolean;
}

export interface FaultFile {
  hosts: Record<string, { commands: CommandFault[] }>;
  lb?: 'drop' | 'refuse' | 'normal';
}
