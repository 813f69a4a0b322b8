// Failure types the workflow and the activities agree on. Workflow-safe: plain data.

/** Failure types that Temporal must not retry: either nothing heals them, or the workflow heals them itself. */
export const NON_RETRYABLE_TYPES: readonly string[] = [
  'HostKeyRejected',
  'SshAuthFailed',
  'BadPrivateKey',
  'SudoFailed',
  'KubeadmPreflight',
  'KubeadmConfigInvalid',
  'KubeadmMissingSharedCerts',
  'KubeadmDiscoveryRejected',
  'KubeadmFailed',
  'KubeadmTransient',
  'LoadBalancerUnreachable',
  'HostNotReady',
  'HalfDone',
  'StepFailed',
  'NodesNotReady',
  'VersionMismatch',
  'EtcdUnhealthy',
  'ResetRefused',
  'SecondClusterRefused',
  'PayloadRefused',
  'LocalFileRefused',
  'InvalidInput',
  'QuorumRefused',
  'DrainBlocked',
  'DrainFailed',
];

/** A payload not encrypted with the worker's key (shared/refused-payload): the run or step stops at once. */
export const PAYLOAD_REFUSED = 'PayloadRefused';

/** Failures the workflow heals by cleaning the node (`kubeadm reset -f`) and running the step again. */
export const HEALED_BY_RESET: readonly string[] = ['KubeadmTransient', 'HalfDone'];

/** A run's input that kubeadm-ha's CLI would not have started (workflows/input-check): nothing is scheduled. */
export const INVALID_INPUT = 'InvalidInput';
