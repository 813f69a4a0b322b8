// Workflow entry point for the bundler: exports every workflow type the worker registers.
export { haClusterWorkflow } from './ha-cluster';
export { planClusterWorkflow } from './plan-cluster';
export { resetClusterWorkflow } from './reset-cluster';
export { upgradeClusterWorkflow } from './upgrade-cluster';
export { planUpgradeWorkflow } from './plan-upgrade';
export { workerWaveWorkflow } from './worker-wave';
