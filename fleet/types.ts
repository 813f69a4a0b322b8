// Public shapes of the fleet API (also written to <dir>/fleet.json).

/**
 * 'etcd': an external etcd member host (kubeadm's "Set up a High Availability etcd cluster with kubeadm").
 * 'bastion': the jump host of FleetOptions.bastion (no Kubernetes role; not in the cluster file's hosts).
 */
export type HostRole = 'control-plane' | 'worker' | 'etcd' | 'bastion';

export interface FleetOptions {
  dir: string;
  controlPlanes: number;
  workers: number;
  /** External etcd hosts etcd1..N (default 0); their kubelet stand-in runs the real /usr/bin/etcd static pod. */
  etcdHosts?: number;
  /** Emulated Kubernetes/kubeadm version, default v1.31.4. */
  kubernetesVersion?: string;
  /** Default discovery timeout of stand-in `kubeadm join` when its config sets none (Go duration). */
  discoveryTimeout?: string;
  /** 0..99, fixes the addresses (see layout.ts); default: the lowest free slot from env KHA_FLEET_FIRST_SLOT (0). */
  slot?: number;
  /** Time the stand-ins spend inside init/join (default none); changeable later with setTiming. */
  timing?: Partial<FleetTiming>;
  /**
   * Also start a jump host "bastion" on its own address (127.S.31.1:2222, same login user and key,
   * AllowTcpForwarding yes), for ssh.jumpHost. The other hosts still accept direct connections.
   */
  bastion?: boolean;
  /**
   * Real nodes (fleet/real): containerd, runc and the real kubelet in each host's own namespaces,
   * on a bridge with HAProxy, for the release's binaries and images built by scripts/build-real.sh.
   */
  real?: boolean;
  /**
   * A real fleet only: another release (e.g. v1.37.2), whose images each node imports too, by the same
   * roles as its own, so that `kubeadm upgrade apply` to it finds them and pulls nothing. Its binaries
   * are not installed: see kubernetesBinDir for where to stage them from.
   */
  upgradeImages?: string;
}

/** Where real kubeadm spends its time: init waits for the control plane, join for the TLS bootstrap. */
export interface FleetTiming {
  initMs: number;
  joinMs: number;
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
  slot: number;
  /** `name` in the cluster file: "fleet" on slot 0, "fleet-<slot>" otherwise (distinct workflow ids). */
  clusterName: string;
  kubernetesVersion: string;
  /** Control planes, workers and etcd hosts (role 'etcd'; the cluster file lists only the first two). */
  hosts: FleetHost[];
  /** With FleetOptions.bastion: the jump host (its key is in knownHostsFile too). */
  bastion?: FleetHost;
  loadBalancer: { host: string; port: number; pid: number };
  clusterFile: string;
  privateKeyFile: string;
  knownHostsFile: string;
  cniManifest: string;
  /** Real nodes (FleetOptions.real). */
  real?: boolean;
  /** The release whose images the real nodes also hold (FleetOptions.upgradeImages). */
  upgradeImages?: string;
  createdAt: string;
}

/** fail fails every time until cleared; fail-once is consumed by its first firing. */
export type CommandFaultMode = 'fail' | 'fail-once' | 'hang' | 'slow';

export interface CommandFault {
  /** Prefix of the command line, e.g. "kubeadm join". */
  command: string;
  mode: CommandFaultMode;
  delayMs?: number;
  message?: string;
  /** kubeadm phase (e.g. "kubelet-start", "etcd", "wait-control-plane") where the fault acts instead of at the start. */
  phase?: string;
  /** fail-once faults are consumed. */
  consumed?: boolean;
}

/** Control-plane static pods a fault can stop (their stand-ins close their listeners). */
export type ControlPlaneComponent = 'kube-apiserver' | 'etcd';

export interface FaultFile {
  /** stopped: components down on that host until started again (or the faults are cleared). */
  hosts: Record<string, { commands: CommandFault[]; stopped?: ControlPlaneComponent[] }>;
  lb?: 'drop' | 'refuse' | 'normal';
}
