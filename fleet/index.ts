// Public API of the local fleet (used by tests of this and later issues).
export { fleetUp, fleetDown, fleetStatus } from './up';
export type { FleetStatus } from './up';
export { setFault, clearFaults } from './faults';
export type { FaultSpec } from './faults';
export { setTiming, readTiming } from './timing';
export { readInvocations, readNetInvocations } from './invocations';
export type { Invocation } from './invocations';
export * from './types';
export { kubernetesBinDir } from './real-kubeadm';
export { LB_PORT, SSH_PORT, controlPlaneAddress, etcdAddress, lbAddress, workerAddress } from './layout';
