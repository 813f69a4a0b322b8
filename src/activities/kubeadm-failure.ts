// Turns a failed kubeadm run into a Temporal failure whose type says whether a retry can help.
import { ApplicationFailure } from '@temporalio/activity';
import { classifyKubeadmFailure, KubeadmFailure, KubeadmFailureKind } from '../kubeadm/failures';
import type { RunResult } from '../ssh/session';

const TYPES: Record<KubeadmFailureKind, string> = {
  preflight: 'KubeadmPreflight',
  'missing-shared-certs': 'KubeadmMissingSharedCerts',
  'no-control-plane-endpoint': 'KubeadmConfigInvalid',
  'config-invalid': 'KubeadmConfigInvalid',
  'discovery-token': 'KubeadmDiscoveryRejected',
  'discovery-ca-hash': 'KubeadmDiscoveryRejected',
  'certificate-key': 'KubeadmDiscoveryRejected',
  'discovery-unreachable': 'KubeadmFailed',
  unknown: 'KubeadmFailed',
};

export function kubeadmFailure(hostName: string, what: string, r: RunResult): { failure: KubeadmFailure; error: ApplicationFailure } {
  const failure = classifyKubeadmFailure(r.exitCode, r.stdout, r.stderr);
  const message = `${hostName}: ${what} failed (exit ${r.exitCode ?? 'unknown'}): ${failure.summary}`;
  const error = ApplicationFailure.create({ message, type: TYPES[failure.kind], nonRetryable: !failure.retryable });
  return { failure, error };
}
