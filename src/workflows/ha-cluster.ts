// The kubeadm HA procedure (stacked etcd), phase by phase, as in the kubeadm page:
// load balancer, first control plane, CNI, shared certificates, other control planes, workers.
// The workflow only decides; activities act on the hosts.
import {
  ActivityCancellationType, ActivityFailure, ApplicationFailure, isCancellation, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes,
} from '@temporalio/workflow';
import type { KubeadmHaActivities } from '../activities/types';
import { NON_RETRYABLE_TYPES } from '../activities/types';
import type { ClusterSpec, GatedPhase, HostSpec } from '../config/types';
import { Decision, PhaseKey, progressQuery } from '../shared/definitions';
import { ApprovalGates } from './approvals';
import { mapWithLimit } from './concurrency';
import { RunProgress } from './progress';

export interface HaClusterInput {
  spec: ClusterSpec;
  /** Overrides for activity retries (tests use few, fast attempts). */
  retry?: { maximumAttempts?: number; initialInterval?: string; maximumInterval?: string };
}
export interface HaClusterResult {
  outcome: 'completed' | 'rejected';
  decisions: Decision[];
  nodes: { name: string; ready: boolean; roles: string[] }[];
  rejection?: Decision;
}

interface Phase {
  name: string;
  title: string;
  /** Approval this phase waits for, when the cluster file lists it. */
  gate?: GatedPhase;
  run(): Promise<void>;
}

class RejectedAtGate extends Error {
  constructor(readonly decision: Decision) {
    super(`rejected by ${decision.approver}`);
  }
}

export async function haClusterWorkflow(input: HaClusterInput): Promise<HaClusterResult> {
  const { spec } = input;
  const acts = activitiesFor(input);
  const [firstCp, ...otherCps] = spec.controlPlanes;
  let nodes: HaClusterResult['nodes'] = [];

  // Runs one step per host; a host's failure is recorded and the others go on, then the phase fails.
  const onHosts = async (hosts: HostSpec[], limit: number, step: string, fn: (h: HostSpec) => Promise<string>, onSuccess: 'pending' | 'running' | 'done' = 'running') => {
    const failures: string[] = [];
    await mapWithLimit(hosts, limit, async (host) => {
      progress.setHost(host.name, 'running', step);
      try {
        progress.setHost(host.name, onSuccess, await fn(host));
      } catch (err) {
        const message = failureMessage(err);
        progress.setHost(host.name, 'failed', message);
        failures.push(message.startsWith(`${host.name}`) ? message : `${host.name}: ${message}`);
      }
    });
    if (failures.length > 0) throw ApplicationFailure.nonRetryable(`${step} failed on ${failures.length} host(s): ${failures.join('; ')}`, 'HostsFailed');
  };

  const phases: Phase[] = [
    {
      name: 'inspectHosts', title: 'Check SSH access, sudo and kubeadm on every host',
      run: () => onHosts([...spec.controlPlanes, ...spec.workers], spec.workerConcurrency, 'inspect', async (host) => {
        const role = spec.controlPlanes.includes(host) ? 'control-plane' : 'worker';
        const r = await acts.inspectHost({ spec, host, role });
        return `kubeadm ${r.kubeadmVersion}, ${r.state === 'clean' ? 'clean' : `already a ${r.state}`}`;
      }, 'pending'),
    },
    {
      name: 'probeLoadBalancer', title: 'Probe the load balancer from the first control plane',
      run: async () => { await acts.probeLoadBalancer({ spec }); },
    },
    {
      name: 'init', title: `kubeadm init on ${firstCp.name}`, gate: 'init',
      run: async () => {
        progress.setHost(firstCp.name, 'running', 'kubeadm init');
        const r = await acts.kubeadmInit({ spec });
        progress.setHost(firstCp.name, 'running', r.alreadyDone ? 'already initialised' : `initialised, endpoint ${r.endpoint}`);
      },
    },
    {
      name: 'installCni', title: 'Apply the CNI and wait for the kube-system pods',
      run: async () => {
        await acts.installCni({ spec });
        await acts.waitForSystemPods({ spec });
        progress.setHost(firstCp.name, 'done', 'control plane ready');
      },
    },
    {
      name: 'distributeCerts', title: 'Copy the shared certificates to the other control planes', gate: 'joinControlPlanes',
      run: () => onHosts(otherCps, otherCps.length, 'copy certificates', async (host) => (await acts.distributeCerts({ spec, host })).detail),
    },
    {
      // One at a time, as the procedure recommends (and requires before kubeadm 1.15).
      name: 'joinControlPlanes', title: 'Join the other control planes, one at a time',
      run: () => onHosts(otherCps, 1, 'join as control plane', async (host) => (await acts.joinControlPlane({ spec, host })).detail, 'done'),
    },
    {
      name: 'joinWorkers', title: `Join the workers, at most ${spec.workerConcurrency} at a time`, gate: 'joinWorkers',
      run: () => onHosts(spec.workers, spec.workerConcurrency, 'join as worker', async (host) => (await acts.joinWorker({ spec, host })).detail, 'done'),
    },
    {
      name: 'verifyNodes', title: 'Verify every node is Ready',
      run: async () => { nodes = (await acts.verifyNodesReady({ spec })).nodes; },
    },
  ];

  const gates = new ApprovalGates();
  const progress = new RunProgress(spec, phases, gates);
  setHandler(progressQuery, () => progress.view());
  const show = (phase: string, details: string) => {
    upsertSearchAttributes([{ key: PhaseKey, value: phase }]);
    setCurrentDetails(details);
  };

  for (const phase of phases) {
    try {
      if (phase.gate && spec.approvals.includes(phase.gate)) {
        show(`awaiting-approval:${phase.gate}`, `Waiting for approval of **${phase.gate}**: ${phase.title}`);
        const decision = await gates.waitFor(phase.gate);
        if (decision.verdict === 'rejected') throw new RejectedAtGate(decision);
      }
      progress.setPhase(phase.name, 'running');
      show(phase.name, `Running **${phase.name}**: ${phase.title}`);
      await phase.run();
      progress.setPhase(phase.name, 'done');
    } catch (err) {
      if (err instanceof RejectedAtGate) {
        progress.status = 'rejected';
        show('rejected', `Rejected at **${phase.gate}** by ${err.decision.approver}${err.decision.comment ? `: ${err.decision.comment}` : ''}`);
        return { outcome: 'rejected', decisions: gates.decisions, nodes, rejection: err.decision };
      }
      if (isCancellation(err)) {
        progress.setPhase(phase.name, 'failed');
        progress.status = 'cancelled';
        show('cancelled', `Cancelled during **${phase.name}**`);
        throw err;
      }
      progress.setPhase(phase.name, 'failed');
      progress.status = 'failed';
      progress.lastError = `${phase.name}: ${failureMessage(err)}`;
      show('failed', `Failed in **${phase.name}**: ${progress.lastError}`);
      throw ApplicationFailure.nonRetryable(progress.lastError, 'PhaseFailed');
    }
  }
  progress.status = 'completed';
  show('completed', `Cluster **${spec.name}** is up: ${nodes.length} nodes Ready`);
  return { outcome: 'completed', decisions: gates.decisions, nodes };
}

function activitiesFor(input: HaClusterInput): KubeadmHaActivities {
  const retry = {
    initialInterval: input.retry?.initialInterval ?? '2s',
    backoffCoefficient: 2,
    maximumInterval: input.retry?.maximumInterval ?? '1m',
    maximumAttempts: input.retry?.maximumAttempts ?? 5,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  };
  // Activities heartbeat every ~2s, so a dead worker is noticed after heartbeatTimeout, not at the timeout.
  const common = { heartbeatTimeout: '15s', retry, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
  const quick = proxyActivities<KubeadmHaActivities>({ ...common, startToCloseTimeout: '3m' });
  const long = proxyActivities<KubeadmHaActivities>({ ...common, startToCloseTimeout: '20m' });
  return {
    inspectHost: quick.inspectHost,
    probeLoadBalancer: quick.probeLoadBalancer,
    kubeadmInit: long.kubeadmInit,
    installCni: quick.installCni,
    waitForSystemPods: long.waitForSystemPods,
    distributeCerts: quick.distributeCerts,
    joinControlPlane: long.joinControlPlane,
    joinWorker: long.joinWorker,
    verifyNodesReady: long.verifyNodesReady,
  };
}

/** The most useful sentence of a failure: the activity's own message, not the wrapper's. */
function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
