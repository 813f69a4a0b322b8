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
  const quick = proxyActivities<KubeadmHaActivities>({ ...common, startToCloseTimeout: '3m' });
  const long = proxyActivities<KubeadmHaActivities>({ ...common, startToCloseTimeout: '30m' });
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
