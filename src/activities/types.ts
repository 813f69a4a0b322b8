// The data the activities and the workflow exchange (types only). Each activity declares its own
// input beside its code; the workflow takes their types from the activities module itself.
// Inputs carry only what the step needs (the host, the SSH settings, a few cluster facts), never
// the whole cluster spec, so history stays small per host at any fleet size. Results carry no
// secrets: they are stored in workflow history.
import type { HostSpec, SshSpec } from '../config/types';
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
