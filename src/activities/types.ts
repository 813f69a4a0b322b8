// The activities' contract, shared by the workflow (types only) and the implementations.
// Results carry no secrets: they are stored in workflow history.
import type { ClusterSpec, HostSpec } from '../config/types';

export type Role = 'control-plane' | 'worker';

export interface ClusterInput {
  spec: ClusterSpec;
}
export interface HostInput {
  spec: ClusterSpec;
  host: HostSpec;
}

export interface HostReport {
  name: string;
  hostname: string;
  kubeadmVersion: string;
  /** What kubeadm already did on this host. */
  state: 'clean' | 'control-plane' | 'worker';
}
export interface ProbeResult {
  outcome: string;
  message: string;
}
export interface InitResult {
  alreadyDone: boolean;
  endpoint: string;
  /** Public: sha256 of the cluster CA's public key (kubeadm's discovery pin). */
  caCertHash: string;
}
export interface StepResult {
  alreadyDone: boolean;
  detail: string;
}
export interface NodesResult {
  nodes: { name: string; ready: boolean; roles: string[] }[];
}

export interface KubeadmHaActivities {
  inspectHost(input: HostInput & { role: Role }): Promise<HostReport>;
  probeLoadBalancer(input: ClusterInput): Promise<ProbeResult>;
  kubeadmInit(input: ClusterInput): Promise<InitResult>;
  installCni(input: ClusterInput): Promise<StepResult>;
  waitForSystemPods(input: ClusterInput): Promise<StepResult>;
  distributeCerts(input: HostInput): Promise<StepResult>;
  joinControlPlane(input: HostInput): Promise<StepResult>;
  joinWorker(input: HostInput): Promise<StepResult>;
  verifyNodesReady(input: ClusterInput): Promise<NodesResult>;
}

/** Failure types that retrying cannot heal; the workflow's retry policies list them. */
export const NON_RETRYABLE_TYPES = [
  'HostKeyRejected',
  'SshAuthFailed',
  'BadPrivateKey',
  'SudoFailed',
  'KubeadmPreflight',
  'KubeadmConfigInvalid',
  'KubeadmMissingSharedCerts',
  'KubeadmDiscoveryRejected',
  'LoadBalancerUnreachable',
  'HostNotReady',
  'VersionMismatch',
];
