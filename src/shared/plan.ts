// What `kubeadm-ha plan` answers: for each phase of a start, its hosts and the action on each, or
// why it is skipped; the gates the run will ask for; and the facts it was planned from, with their
// fingerprint. Shared by the plan workflow and the CLI (types only).
import type { Gate } from '../config/enums';

export interface PlannedAction {
  host: string;
  role: 'control-plane' | 'worker' | 'etcd';
  action: string;
}

export interface PlannedPhase {
  name: string;
  title: string;
  /** The gate a start waits at before this phase (only when the phase has work to do). */
  gate?: Gate;
  /** Why the phase has nothing to do; absent when it runs. */
  skip?: string;
  actions?: PlannedAction[];
  /** The phase only reads hosts. */
  readOnly?: boolean;
}

/** A host as inspection found it. */
export interface PlannedHost {
  name: string;
  role: 'control-plane' | 'worker' | 'etcd';
  /** clean, joined, half-done, unknown; or unreachable when it could not be inspected. */
  state: string;
  detail?: string;
  kubeadmVersion?: string;
}

export interface ClusterPlan {
  cluster: string;
  kubernetesVersion: string;
  phases: PlannedPhase[];
  /** The gates a start will ask for, in order. */
  gates: Gate[];
  /** Every phase that changes hosts is skipped: the cluster matches the file. */
  nothingToDo: boolean;
  hosts: PlannedHost[];
  /** How the cluster was read, or why it could not be. */
  clusterRead: string;
  /** sha256 of the facts the plan used (hosts' files and states, the cluster's Nodes and etcd members). */
  fingerprint: string;
}
