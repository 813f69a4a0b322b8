// Messages, queries and search attributes shared by the workflow, the worker and the client.
// Workflow-safe: imports nothing but @temporalio/workflow and @temporalio/common types.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Gate } from '../config/enums';

export const TASK_QUEUE = 'kubeadm-ha';

export const ClusterNameKey = defineSearchAttributeKey('KubeadmHaCluster', SearchAttributeType.KEYWORD);
/** The phase the run is in, or was in when it ended, parked or failed. */
export const PhaseKey = defineSearchAttributeKey('KubeadmHaPhase', SearchAttributeType.KEYWORD);
/** running, awaiting-approval, parked, completed, completed-with-skipped, aborted, rejected, cancelled, failed. */
export const StatusKey = defineSearchAttributeKey('KubeadmHaStatus', SearchAttributeType.KEYWORD);
/**
 * The phase where a step last parked, or where the run failed or was aborted; unset while nothing
 * has. It stays once the run moves on, so "runs that failed in joinControlPlanes" can be searched.
 */
export const FailedPhaseKey = defineSearchAttributeKey('KubeadmHaFailedPhase', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [ClusterNameKey, PhaseKey, StatusKey, FailedPhaseKey];
/** How many running hosts `status` names for a large cluster (the rest it counts); the memo keeps as many. */
export const RUNNING_NAMED = 5;
/** Memo key holding the compact progress view, so a closed run can be shown without a worker. */
export const PROGRESS_MEMO = 'progress';

export function workflowIdFor(clusterName: string): string {
  return `kubeadm-ha-${clusterName}`;
}

/**
 * One mechanism for every decision an operator takes: approving a gate, or resolving a parked step.
 * Each waiting item has a key: `gate:<phase>` or `park:<step>:<host>:<attempt>`.
 */
export type GateVerdict = 'approved' | 'rejected';
/** `disable-eviction`: retry a drain a PodDisruptionBudget stopped, deleting its pods instead of evicting them. */
export type ParkVerdict = 'retry' | 'skip' | 'abort' | 'disable-eviction';
export type Verdict = GateVerdict | ParkVerdict;

export interface Decision {
  key: string;
  /** The gate's phase, or the phase of the parked step. */
  phase: string;
  host?: string;
  step?: string;
  attempt?: number;
  verdict: Verdict;
  approver: string;
  comment?: string;
  /** Workflow time (ISO) when the decision was taken. */
  at: string;
}

export interface ApprovalInput {
  phase: Gate;
  approver: string;
  comment?: string;
}
export interface RejectionInput {
  phase: Gate;
  approver: string;
  reason?: string;
}
/** Resolves the step parked on `host`: retry it (after fixing the host), skip it (workers only), or abort the run. */
export interface ParkDecisionInput {
  host: string;
  action: ParkVerdict;
  approver: string;
  reason?: string;
}

/** Signals: fire-and-forget, usable from the Web UI and `temporal workflow signal`; ignored when nothing matches. */
export const approveSignal = defineSignal<[ApprovalInput]>('approve');
export const rejectSignal = defineSignal<[RejectionInput]>('reject');
export const resolveSignal = defineSignal<[ParkDecisionInput]>('resolve');
/** Updates: what the CLI uses; validators refuse a decision nothing waits for. */
export const approveUpdate = defineUpdate<Decision, [ApprovalInput]>('approvePhase');
export const rejectUpdate = defineUpdate<Decision, [RejectionInput]>('rejectPhase');
export const resolveUpdate = defineUpdate<Decision, [ParkDecisionInput]>('resolveParked');

export type HostState = 'pending' | 'running' | 'done' | 'parked' | 'skipped' | 'failed';
export const HOST_STATES: readonly HostState[] = ['pending', 'running', 'done', 'parked', 'skipped', 'failed'];
export interface HostProgress {
  name: string;
  address: string;
  role: 'control-plane' | 'worker' | 'etcd';
  state: HostState;
  /** Short, redacted note: the last step, or why it failed. */
  detail?: string;
}

export interface AttemptRecord {
  attempt: number;
  /** kubeadm's own text (redacted) or the SSH failure. */
  error: string;
  at: string;
}
/** A step that used its retries, or failed in a way retrying cannot heal, waiting for an operator. */
export interface ParkedStep {
  key: string;
  phase: string;
  step: string;
  host: string;
  role: 'control-plane' | 'worker' | 'etcd';
  attempts: AttemptRecord[];
  options: ParkVerdict[];
  since: string;
  /** What a retry does, in order (a reset names what it removes), when it is more than the step again. */
  retryWill?: string[];
}
/** A half-done node cleaned before a step ran again. */
export interface Cleanup {
  host: string;
  step: string;
  detail: string;
  at: string;
}

export type RunStatus =
  | 'running'
  | 'awaiting-approval'
  | 'parked'
  | 'completed'
  | 'completed-with-skipped'
  | 'aborted'
  | 'rejected'
  | 'cancelled'
  | 'failed';
export type PhaseState = 'pending' | 'running' | 'done' | 'failed' | 'skipped';
export interface Progress {
  cluster: string;
  status: RunStatus;
  /** Current phase name, or the one the run ended in. */
  phase: string;
  phases: { name: string; title: string; state: PhaseState; reason?: string }[];
  awaitingApproval?: Gate;
  parked: ParkedStep[];
  decisions: Decision[];
  hosts: HostProgress[];
  counts: Record<HostState, number>;
  cleanups: Cleanup[];
  lastError?: string;
  /** The waves of a large fleet's workers, when the run has any. */
  waves?: WaveProgress[];
}
export const progressQuery = defineQuery<Progress>('progress');

/**
 * A wave: a child workflow that runs one step (inspection, a join) on a share of a large fleet's
 * workers, so that no single execution's history grows with the fleet. Its id is the run's
 * workflow id with `/<name>` after it, so the Web UI lists it beside its run.
 */
export interface WaveProgress {
  /** The child's workflow id: `<run's workflow id>/workers-3`. */
  id: string;
  step: string;
  hosts: number;
  state: 'running' | 'done' | 'failed';
}
/**
 * What a wave tells its run, in order, at each change it publishes: the hosts whose state changed,
 * the steps parked in it now (the run offers them to operators and relays their decisions), and how
 * many of its hosts are still pending or running (none: the next wave may start).
 */
export interface WaveReport {
  wave: string;
  hosts: Pick<HostProgress, 'name' | 'state' | 'detail'>[];
  parked: ParkedStep[];
  open: number;
}
export const waveReportSignal = defineSignal<[WaveReport]>('waveReport');
