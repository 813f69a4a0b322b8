// The activities the worker registers; their names and types are KubeadmHaActivities.
import type { KubeadmHaActivities } from './types';
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
  return {
    inspectHost, readCluster, probeLoadBalancer, kubeadmInit, installCni, waitForSystemPods,
    distributeCerts, ensureJoinToken, deleteJoinTokens, joinNode, cleanNode, verifyNodes,
    uploadCerts, buildEtcdMember, checkEtcdCluster, installEtcdClientCerts,
  };
}
