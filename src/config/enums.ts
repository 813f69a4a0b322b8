// The values some cluster-file fields may take. Plain constants with no imports: the zod schema
// (./schema) builds its enums from them and the types (./types) name them, so neither of those
// imports the other for them, and workflow code reads them without loading zod.

export const TOPOLOGIES = ['stacked', 'external'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** Phases of a build that can wait for an operator's approval before they run (the cluster file's `approvals`). */
export const GATED_PHASES = ['etcd', 'init', 'joinControlPlanes', 'joinWorkers'] as const;
export type GatedPhase = (typeof GATED_PHASES)[number];

/**
 * Gates of the operations that take live nodes down (removing nodes, a reset): always asked,
 * whatever the cluster file lists, since nothing of a live cluster is reset without an operator.
 */
export const OPERATION_GATES = ['removeNodes', 'reset', 'upgrade'] as const;
/** Every gate a run can wait at, and an operator can approve or reject. */
export const GATES = [...GATED_PHASES, ...OPERATION_GATES] as const;
export type Gate = (typeof GATES)[number];

/**
 * How the other control planes get the shared certificates: `copy` (the page's manual copy, host to
 * host through the worker) or `upload` (`kubeadm init --upload-certs` and a certificate key).
 */
export const CERTIFICATE_MODES = ['copy', 'upload'] as const;

/**
 * strict (default): a host must be in knownHostsFile. accept-new: an unknown host's key is recorded
 * there on first use (OpenSSH StrictHostKeyChecking=accept-new). A changed key is always refused.
 */
export const HOST_KEY_POLICIES = ['strict', 'accept-new'] as const;

/** Package managers `kubeadm-ha upgrade` can install kubeadm, kubelet and kubectl with. */
export const UPGRADE_PACKAGE_MANAGERS = ['apt'] as const;
