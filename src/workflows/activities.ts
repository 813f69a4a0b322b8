// The activities as the workflow calls them, with timeouts, heartbeats and retries. Temporal
// retries what a new attempt can heal by itself (a lost SSH connection, a dead worker: the retry
// re-attaches to the journaled command); kubeadm failures come back at once and the workflow
// decides (reset and run again, or park).
import { ActivityCancellationType, ActivityInterfaceFor, ActivityOptions, proxyActivities } from '@temporalio/workflow';
import type { KubeadmHaActivities } from '../activities/types';

export interface RetryTuning {
  maximumAttempts?: number;
  initialInterval?: string;
  maximumInterval?: string;
}

export function activitiesFor(tuning: RetryTuning = {}): KubeadmHaActivities {
  const retry = {
    initialInterval: tuning.initialInterval ?? '2s',
    backoffCoefficient: 2,
    maximumInterval: tuning.maximumInterval ?? '1m',
    maximumAttempts: tuning.maximumAttempts ?? 8, // about 4 minutes of backoff: an sshd restart or a network blip heals
    // Failures of the NON_RETRYABLE_TYPES come back non-retryable from the activities themselves (activities/index.ts).
  };
  // Activities heartbeat every 2 s, so a dead worker is noticed after heartbeatTimeout, not at the timeout.
  const common = { heartbeatTimeout: '15s', retry, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
  const quick = proxyActivities<KubeadmHaActivities>({ ...common, startToCloseTimeout: '3m' });
  const long = proxyActivities<KubeadmHaActivities>({ ...common, startToCloseTimeout: '30m' });
  // Each scheduled activity names its host, so the Web UI's timeline reads "joinNode w17", not a row of "joinNode".
  // executeWithOptions deep-merges these options into the proxy's.
  type Proxied = { executeWithOptions(options: ActivityOptions, args: unknown[]): Promise<unknown> };
  const named = <K extends keyof KubeadmHaActivities>(proxy: ActivityInterfaceFor<KubeadmHaActivities>, name: K): KubeadmHaActivities[K] =>
    ((input: Parameters<KubeadmHaActivities[K]>[0]) =>
      (proxy[name] as unknown as Proxied).executeWithOptions({ summary: `${name} ${input.host.name}` } as ActivityOptions, [input])) as KubeadmHaActivities[K];
  return {
    inspectHost: named(quick, 'inspectHost'),
    readCluster: named(quick, 'readCluster'),
    probeLoadBalancer: named(quick, 'probeLoadBalancer'),
    kubeadmInit: named(long, 'kubeadmInit'),
    uploadCerts: named(quick, 'uploadCerts'),
    buildEtcdMember: named(long, 'buildEtcdMember'),
    checkEtcdCluster: named(long, 'checkEtcdCluster'),
    installEtcdClientCerts: named(quick, 'installEtcdClientCerts'),
    installCni: named(quick, 'installCni'),
    waitForSystemPods: named(long, 'waitForSystemPods'),
    distributeCerts: named(quick, 'distributeCerts'),
    ensureJoinToken: named(quick, 'ensureJoinToken'),
    deleteJoinTokens: named(quick, 'deleteJoinTokens'),
    joinNode: named(long, 'joinNode'),
    cleanNode: named(long, 'cleanNode'),
    verifyNodes: named(long, 'verifyNodes'),
  };
}
