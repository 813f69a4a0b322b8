// The activities as the workflow calls them, typed from the activities module itself, with their
// timeouts, heartbeats and retries. Temporal retries what a new attempt can heal by itself (a lost
// SSH connection, a dead worker: the retry re-attaches to the journaled command); kubeadm failures
// come back at once and the workflow decides (reset and run again, or park). Failures of the
// shared NON_RETRYABLE_TYPES come back non-retryable from the activities (activities/failure-types.ts).
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';

export type KubeadmHaActivities = typeof activities;

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
  };
  // Activities heartbeat every 2 s, so a dead worker is noticed after heartbeatTimeout, not at the timeout.
  const common = {
    heartbeatTimeout: '15s',
    retry,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  const queues = new Map<string, { quick: KubeadmHaActivities; long: KubeadmHaActivities }>();
  const on = (taskQueue: string | undefined) => {
    const key = taskQueue ?? '';
    let p = queues.get(key);
    if (!p) {
      const q = taskQueue ? { taskQueue } : {};
      p = {
        quick: proxyActivities<KubeadmHaActivities>({ ...common, ...q, startToCloseTimeout: '3m' }),
        long: proxyActivities<KubeadmHaActivities>({ ...common, ...q, startToCloseTimeout: '30m' }),
      };
      queues.set(key, p);
    }
    return p;
  };
  // A call goes to the task queue of the host it acts on (the workers of its network zone), else the
  // run's own queue: every activity's input names its host (OnHost).
  const routed = (kind: 'quick' | 'long'): KubeadmHaActivities =>
    new Proxy({} as KubeadmHaActivities, {
      get: (_, name: string) => (input: { host?: { taskQueue?: string } } | undefined) =>
        (on(input?.host?.taskQueue)[kind] as unknown as Record<string, (i: unknown) => Promise<unknown>>)[name](input),
    });
  const quick = routed('quick');
  const long = routed('long');
  // One line per activity: how long one attempt may take. A missing or unknown name fails to compile.
  return {
    inspectHost: quick.inspectHost,
    readCluster: quick.readCluster,
    probeLoadBalancer: quick.probeLoadBalancer,
    kubeadmInit: long.kubeadmInit,
    uploadCerts: quick.uploadCerts,
    removeCertificateKey: quick.removeCertificateKey,
    buildEtcdMember: long.buildEtcdMember,
    checkEtcdCluster: long.checkEtcdCluster,
    installEtcdClientCerts: quick.installEtcdClientCerts,
    installCni: quick.installCni,
    waitForSystemPods: long.waitForSystemPods,
    distributeCerts: quick.distributeCerts,
    ensureJoinToken: quick.ensureJoinToken,
    deleteJoinTokens: quick.deleteJoinTokens,
    joinNode: long.joinNode,
    cleanNode: long.cleanNode,
    resetNode: long.resetNode,
    removeNode: long.removeNode,
    verifyNodes: long.verifyNodes,
    readNodeVersions: quick.readNodeVersions,
    readKubeadmUpgradePlan: quick.readKubeadmUpgradePlan,
    backupCluster: long.backupCluster,
    upgradeKubeadm: long.upgradeKubeadm,
    upgradeKubelet: long.upgradeKubelet,
  };
}
