// The activities the worker registers; names match KubeadmHaActivities.
import type { KubeadmHaActivities } from './types';
import { distributeCerts } from './certs';
import { installCni, kubeadmInit, waitForSystemPods } from './init';
import { inspectHost } from './inspect';
import { joinControlPlane, joinWorker } from './join';
import { probeLoadBalancer } from './load-balancer';
import { verifyNodesReady } from './nodes';

export function createActivities(): KubeadmHaActivities {
  return {
    inspectHost, probeLoadBalancer, kubeadmInit, installCni, waitForSystemPods,
    distributeCerts, joinControlPlane, joinWorker, verifyNodesReady,
  };
}
