// Messages, queries and search attributes shared by the workflow, the worker and the client.
// Workflow-safe: imports nothing but @temporalio/workflow and @temporalio/common types.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { GatedPhase } from '../config/types';

export const TASK_QUEUE = 'kubeadm-ha';
export const WORKFLOW_TYPE = 'haClusterWorkflow';

export const ClusterNameKey = defineSearchAttributeKey('KubeadmHaCluster', SearchAttributeType.KEYWORD);
export const PhaseKey = defineSearchAttributeKey('KubeadmHaPhase', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [ClusterNameKey, PhaseKey];

export function workflowIdFor(clusterName: string): string {
  return `kubeadm-ha-${clusterName}`;
}

export interface ApprovalInput {
  phase: GatedPhase;
  approver: string;
  comment?: string;
}
export interface RejectionInput {
  phase: GatedPhase;
  approver: string;
  reason?: string;
}
export interface Decision {
  phase: GatedPhase;
  verdict: 'approved' | 'rejected';
  approver: string;
  comment?: string;
  /** Workflow time (ISO) when the decision was taken. */
  at: string;
}

/** Signals: fire-and-forget, usable from the Web UI and `temporal workflow signal`. */
export const approveSignal = defineSignal<[ApprovalInput]>('approve');
export const rejectSignal = defineSignal<[RejectionInput]>('reject');
/** Updates: what the CLI uses; the validator refuses a phase that is not waiting. */
export const approveUpdate = defineUpdate<Decision, [ApprovalInput]>('approvePhase');
export const rejectUpdate = defineUpdate<Decision, [RejectionInput]>('rejectPhase');

export type HostState = 'pending' | 'running' | 'done' | 'failed';
export interface HostProgress {
  name: string;
  address: string;
  role: 'control-plane' | 'worker';
  state: HostState;
  /** Short, redacted note: the last step, or why it failed. */
  detail?: string;
}
export type RunStatus = 'running' | 'awaiting-approval' | 'completed' | 'failed' | 'rejected' | 'cancelled';
export interface Progress {
  cluster: string;
  status: RunStatus;
  /** Current phase name (see PHASES). */
  phase: string;
  phases: { name: string; title: string; state: 'pending' | 'running' | 'done' | 'failed' | 'skipped' }[];
  awaitingApproval?: GatedPhase;
  decisions: Decision[];
  hosts: HostProgress[];
  lastError?: string;
}
export const progressQuery = defineQuery<Progress>('progress');
