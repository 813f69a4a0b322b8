// Turns a failed kubeadm run into a Temporal failure whose type tells the workflow what heals it:
// KubeadmTransient (reset the node and run again) or a type that parks the step for an operator.
import { ApplicationFailure } from '@temporalio/activity';
import { classifyKubeadmFailure, KubeadmFailure, KubeadmFailureKind } from '../kubeadm/failures';
import type { StepOutcome } from '../ssh/journal';
import { tail } from './host-context';

const TYPES: Record<KubeadmFailureKind, string> = {
  preflight: 'KubeadmPreflight',
  'missing-shared-certs': 'KubeadmMissingSharedCerts',
  'no-control-plane-endpoint': 'KubeadmConfigInvalid',
  'config-invalid': 'KubeadmConfigInvalid',
  'discovery-token': 'KubeadmDiscoveryRejected',
  'discovery-ca-hash': 'KubeadmDiscoveryRejected',
  'certificate-key': 'KubeadmDiscoveryRejected',
  'discovery-unreachable': 'KubeadmTransient',
  'kubelet-start': 'KubeadmTransient',
  'etcd-join': 'KubeadmTransient',
  'wait-control-plane': 'KubeadmTransient',
  incomplete: 'KubeadmTransient',
  unknown: 'KubeadmFailed',
};

/** A failure no retry of the activity heals: the workflow parks the step with it. */
export const refuse = (type: string, message: string) =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

export function kubeadmFailure(
  hostName: string,
  what: string,
  r: { exitCode: number | null; output: string },
): { failure: KubeadmFailure; error: ApplicationFailure } {
  const failure = classifyKubeadmFailure(r.exitCode, r.output, '');
  const message = `${hostName}: ${what} failed (exit ${r.exitCode ?? 'unknown'}): ${failure.summary}`;
  const type = failure.transient ? 'KubeadmTransient' : TYPES[failure.kind];
  return { failure, error: ApplicationFailure.create({ message, type, nonRetryable: true }) };
}

/**
 * The result of a journaled kubeadm step: success, or the failure whose type says what heals it.
 * 'already-done' (the guard found the work done) is for the caller to confirm against the cluster.
 */
export function kubeadmOutcome(hostName: string, what: string, o: StepOutcome): 'finished' | 'already-done' {
  if (o.state === 'already-done') return 'already-done';
  if (o.state === 'finished' && o.exitCode === 0) return 'finished';
  if (o.state !== 'finished') {
    throw ApplicationFailure.create({
      message: `${hostName}: ${what} ${o.state === 'died' ? 'died before it finished (host rebooted or the process was killed)' : 'was cancelled'}; the node is reset before the next attempt`,
      type: 'KubeadmTransient',
      nonRetryable: true,
    });
  }
  throw kubeadmFailure(hostName, what, o).error;
}

/** A journaled command that is not kubeadm (kubectl apply, a certificate install): non-zero parks it. */
export function commandOutcome(hostName: string, what: string, o: StepOutcome): void {
  if (o.state === 'finished' && o.exitCode === 0) return;
  if (o.state === 'already-done') return;
  const why = o.state === 'finished' ? `exit ${o.exitCode}` : o.state;
  throw ApplicationFailure.create({
    message: `${hostName}: ${what} failed (${why}): ${tail(o.output)}`,
    type: 'StepFailed',
    nonRetryable: true,
  });
}
