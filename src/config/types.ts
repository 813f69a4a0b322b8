// The validated cluster file. It is the workflow's input, so it holds paths to secrets
// (private key, known_hosts), never the secrets themselves: workflow input lives in history.

export type Topology = 'stacked' | 'external';

/** Phases that can wait for an operator's approval before they run. */
export const GATED_PHASES = ['etcd', 'init', 'joinControlPlanes', 'joinWorkers'] as const;
export type GatedPhase = (typeof GATED_PHASES)[number];

export interface HostSpec {
  /** Node name in Kubernetes; unique within the cluster file. */
  name: string;
  /** IP address or DNS name the worker connects to over SSH; also the node's advertise address. */
  address: string;
  /** SSH port; defaults to ssh.port. */
  port: number;
}

export interface SshSpec {
  user: string;
  /** Absolute path, resolved on the worker's machine. */
  privateKeyFile: string;
  /** Absolute path; default ~/.ssh/known_hosts. */
  knownHostsFile: string;
  port: number;
  /**
   * strict (default): a host must be in knownHostsFile. accept-new: an unknown host's key is recorded
   * there on first use (OpenSSH StrictHostKeyChecking=accept-new). A changed key is always refused.
   */
  hostKeyPolicy: 'strict' | 'accept-new';
  /** A bastion the worker reaches the hosts through (OpenSSH ProxyJump); its key is checked the same way. */
  jumpHost?: { address: string; port: number; user: string };
  /** Forward the worker's ssh-agent (SSH_AUTH_SOCK) to the hosts, as the kubeadm page's `ssh -A` does. */
  forwardAgent: boolean;
}

/** External etcd that kubeadm-ha builds on these hosts (kubeadm's "Set up a High Availability etcd cluster" guide). */
export interface BuiltEtcd {
  hosts: HostSpec[];
}
/** An etcd cluster that already runs: the API servers reach it with this client certificate. */
export interface ExistingEtcd {
  /** https:// client URLs. */
  endpoints: string[];
  /** Absolute paths on the worker's machine; the files go to the first control plane inside an activity. */
  caFile: string;
  certFile: string;
  keyFile: string;
}
export type EtcdSpec = BuiltEtcd | ExistingEtcd;
export const isBuiltEtcd = (e: EtcdSpec): e is BuiltEtcd => 'hosts' in e;

/**
 * How the other control planes get the shared certificates: `copy` (the page's manual copy, host to
 * host through the worker) or `upload` (`kubeadm init --upload-certs` and a certificate key).
 */
export type CertificateMode = 'copy' | 'upload';
export const CERTIFICATE_MODES: readonly CertificateMode[] = ['copy', 'upload'];

export interface ClusterSpec {
  name: string;
  /** e.g. "v1.31.4" */
  kubernetesVersion: string;
  topology: Topology;
  /** Only with topology external. */
  etcd?: EtcdSpec;
  certificates: CertificateMode;
  loadBalancer: { host: string; port: number };
  networking: { podSubnet: string; serviceSubnet?: string };
  /** Absolute path to the CNI manifest applied after init. */
  cniManifest: string;
  ssh: SshSpec;
  controlPlanes: HostSpec[];
  workers: HostSpec[];
  /** Phases that wait for approval. */
  approvals: GatedPhase[];
  /** Most workers joined at the same time. */
  workerConcurrency: number;
}
