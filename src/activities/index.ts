// The activities the worker registers; their names and types are KubeadmHaActivities.
import { ApplicationFailure } from '@temporalio/activity';
import { NON_RETRYABLE_TYPES, type KubeadmHaActivities } from './types';
import { distributeCerts, installEtcdClientCerts } from './certs';
import { buildEtcdMember, checkEtcdCluster } from './etcd';
import { cleanNode } from './clean';
import { installCni, kubeadmInit, uploadCerts, waitForSystemPods } from './init';
import { inspectHost, readCluster } from './inspect';
import { joinNode } from './join';
import { probeLoadBalancer } from './load-balancer';
import { verifyNodes } from './nodes';
import { deleteJoinTokens, ensureJoinToken } from './tokens';

export function createActivities(): KubeadmHaActivities {
  const activities: KubeadmHaActivities = {
    inspectHost, readCluster, probeLoadBalancer, kubeadmInit, installCni, waitForSystemPods,
    distributeCerts, ensureJoinToken, deleteJoinTokens, joinNode, cleanNode, verifyNodes,
    uploadCerts, buildEtcdMember, checkEtcdCluster, installEtcdClientCerts,
  };
  return Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, withFailureTypes(fn)])) as unknown as KubeadmHaActivities;
}

/**
 * Which failures Temporal may retry is decided here, by type, once for every activity: the retry
 * policy then need not list the types, and the list is not copied into every ActivityTaskScheduled
 * event (about 300 bytes each, the largest part of a scheduled join).
 */
export function withFailureTypes<I, O>(fn: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input) => {
    try {
      return await fn(input);
    } catch (err) {
      throw asNonRetryable(err);
    }
  };
}

export function asNonRetryable(err: unknown): unknown {
  if (!(err instanceof ApplicationFailure) || err.nonRetryable || !err.type || !NON_RETRYABLE_TYPES.includes(err.type)) return err;
  const failure = ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: true, details: err.details ? [...err.details] : undefined, cause: err.cause });
  failure.stack = err.stack;
  return failure;
}
