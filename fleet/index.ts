// Public API of the local fleet (used by tests of this and later issues).
export { fleetUp, fleetDown, fleetStatus } from './up';
export type { FleetStatus } from './up';
export { setFault, clearFaults } from './faults';
export type { FaultSpec } from './faults';
export * from './types';
export { LB_ADDRESS, LB_PORT, SSH_PORT } from './layout';
