// The activities' contract, shared by the workflow (types only) and the implementations.
// Inputs carry only what the step needs (the host, the SSH settings, a few cluster facts), never
// the whole cluster spec, so history stays small per host at any fleet size. Results carry no
// secrets: they are stored in workflow history.
import type { HostSpec, SshSpec, Topology } from '../config/types';
import type { InitConfigInput, KubeadmNodeOptions } from '../kubeadm/config';
import type { ClusterView, NodeFiles, UnknownFact } from '../kubeadm/node-state';

export type Role = 'control-plane' | 'worker' | 'etcd';

/** Where a step acts: one host and how to reach it. */
export interface OnHost {
  host: HostSpec;
  ssh: SshSpec;
}
/** A step that changes the host runs journaled under this id: a retry with the same id re-attaches. */
export interface Journaled {
  stepId: string;
}

export interface HostFacts {
  name: string;
  hostname: string;
  kubeadmVersion: string;
  files: NodeFiles;
  /** Journal id of a step still running on the host (from this or an earlier run), if any. */
  busy?: string;
}
export interface ProbeResult {
  outcome: string;
  message: string;
}
export interface StepResult {
  host: string;
  alreadyDone: boolean;
  /** true when a retry found the remote command already started and waited for it. */
  attached?: boolean;
  detail: string;
}
export interface InitResult extends StepResult {
  /** Public: sha256 of the cluster CA's public key (kubeadm's discovery pin). */
  caCertHash: string;
}
export interface TokenRef {
  /** The bootstrap token's ID (public: `kubeadm token list` shows it); the secret stays on the hosts and in worker memory. */
  id: string;
  /** Worker clock, ISO. */
  expiresAt: string;
}
/**
 * The cluster as its API server reports it, with how it was read (`via`); or the fact that could not
 * be read. null: no API server answered (what versions before UnknownFact returned).
 */
export type ClusterReading = (ClusterView & { caCertHash: string; via?: string }) | { unknown: UnknownFact } | null;
export interface CleanupResult {
  host: string;
  cleaned: boolean;
  detail: string;
}
export interface NodesResult {
  nodes: { name: string; ready: boolean; roles: string[] }[];
}

export interface KubeadmHaActivities {
  inspectHost(input: OnHost & { role: Role; kubernetesVersion: string }): Promise<HostFacts>;
  /** Read from `host` (the first control plane); `controlPlanes` are asked directly when the load balancer does not answer. */
  readCluster(input: OnHost & { stacked: boolean; controlPlanes?: HostSpec[] }): Promise<ClusterReading>;
  probeLoadBalancer(input: OnHost & { loadBalancer: { host: string; port: number } }): Promise<ProbeResult>;
  /** `uploadCerts`: `kubeadm init --upload-certs` with a certificate key kubeadm-ha makes and keeps on the host. */
  kubeadmInit(input: OnHost & Journaled & { config: InitConfigInput; stacked: boolean; uploadCerts?: boolean }): Promise<InitResult>;
  /** `kubeadm init phase upload-certs` again with the same key: two more hours for the control-plane joins. */
  uploadCerts(input: OnHost & Journaled & { config: InitConfigInput }): Promise<StepResult>;
  /** One member of an external etcd cluster; `caSource` is the member whose etcd CA it copies (none on the first). */
  buildEtcdMember(input: OnHost & Journaled & { kubernetesVersion: string; members: HostSpec[]; caSource?: HostSpec; kubeletConfiguration?: Record<string, unknown> }): Promise<StepResult>;
  /** On an etcd member: waits until every member answers `etcdctl endpoint health` and is started in `member list`. */
  checkEtcdCluster(input: OnHost & { members: HostSpec[] }): Promise<StepResult>;
  /** The etcd CA and apiserver-etcd-client pair to the first control plane: from an etcd member, or from the operator's files. */
  installEtcdClientCerts(input: OnHost & Journaled & { from: { host: HostSpec } | { caFile: string; certFile: string; keyFile: string } }): Promise<StepResult>;
  installCni(input: OnHost & Journaled & { manifestFile: string }): Promise<StepResult>;
  waitForSystemPods(input: OnHost): Promise<StepResult>;
  distributeCerts(input: OnHost & Journaled & { source: HostSpec; topology: Topology; kubernetesVersion: string }): Promise<StepResult>;
  ensureJoinToken(input: OnHost & { current?: TokenRef; ttlSeconds: number; minRemainingSeconds: number; description: string }): Promise<TokenRef>;
  deleteJoinTokens(input: OnHost & { ids: string[] }): Promise<{ deleted: string[] }>;
  joinNode(input: OnHost & Journaled & {
    role: Role; kubernetesVersion: string; endpoint: string; caCertHash: string; token: TokenRef;
    /** The first control plane, where the token's secret (and the certificate key) is kept. */
    tokenHost: HostSpec;
    /** A control plane joining in upload mode downloads the shared certificates with the certificate key. */
    downloadCerts?: boolean;
    /** The cluster file's kubeadm section (preflight checks to ignore, patches). */
    kubeadm?: KubeadmNodeOptions;
  }): Promise<StepResult>;
  /**
   * `healthy`: a control plane through which a stacked member is removed (none for the first control
   * plane, which is then reset only with `approvedBy`, the operator who approved it).
   */
  cleanNode(input: OnHost & Journaled & { role: Role; stacked: boolean; healthy?: HostSpec; approvedBy?: string }): Promise<CleanupResult>;
  verifyNodes(input: OnHost & { expected: { name: string; role: Role }[] }): Promise<NodesResult>;
}

/** Failure types that Temporal must not retry: either nothing heals them, or the workflow heals them itself. */
export const NON_RETRYABLE_TYPES = [
  'HostKeyRejected',
  'SshAuthFailed',
  'BadPrivateKey',
  'SudoFailed',
  'KubeadmPreflight',
  'KubeadmConfigInvalid',
  'KubeadmMissingSharedCerts',
  'KubeadmDiscoveryRejected',
  'KubeadmFailed',
  'KubeadmTransient',
  'LoadBalancerUnreachable',
  'HostNotReady',
  'HalfDone',
  'StepFailed',
  'NodesNotReady',
  'VersionMismatch',
  'EtcdUnhealthy',
  'ResetRefused',
  'SecondClusterRefused',
];
/** Failures the workflow heals by cleaning the node (`kubeadm reset -f`) and running the step again. */
export const HEALED_BY_RESET = ['KubeadmTransient', 'HalfDone'];
