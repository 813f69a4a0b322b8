// The validated cluster file. It is the workflow's input, so it holds paths to secrets
// (private key, known_hosts), never the secrets themselves: workflow input lives in history.
//
// One source of truth: the shapes are derived from the zod schema in ./schema (which also yields the
// committed JSON Schema). Only type imports come from there, so workflow code that imports this
// module does not load zod. The constants below are the schema's enums.
import type { z } from 'zod';
import type { builtEtcdSchema, clusterFileSchema, existingEtcdSchema, hostSchema } from './schema';

export const TOPOLOGIES = ['stacked', 'external'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** Phases that can wait for an operator's approval before they run. */
export const GATED_PHASES = ['etcd', 'init', 'joinControlPlanes', 'joinWorkers'] as const;
export type GatedPhase = (typeof GATED_PHASES)[number];

/**
 * How the other control planes get the shared certificates: `copy` (the page's manual copy, host to
 * host through the worker) or `upload` (`kubeadm init --upload-certs` and a certificate key).
 */
export const CERTIFICATE_MODES = ['copy', 'upload'] as const;
export type CertificateMode = (typeof CERTIFICATE_MODES)[number];

/**
 * strict (default): a host must be in knownHostsFile. accept-new: an unknown host's key is recorded
 * there on first use (OpenSSH StrictHostKeyChecking=accept-new). A changed key is always refused.
 */
export const HOST_KEY_POLICIES = ['strict', 'accept-new'] as const;
export type HostKeyPolicy = (typeof HOST_KEY_POLICIES)[number];

/** T with the fields of O replacing its own: what loading adds to the file's shape (defaults from other fields, resolved paths). */
type With<T, O> = Omit<T, keyof O> & O;

/** The cluster file as written: what the JSON Schema describes (fields with defaults are optional). */
export type ClusterFile = z.input<typeof clusterFileSchema>;
type Parsed = z.output<typeof clusterFileSchema>;

/** A host: name (node name), address (SSH and advertise address), port (SSH; defaults to ssh.port). */
export type HostSpec = With<z.output<ReturnType<typeof hostSchema>>, { port: number }>;

type ParsedSsh = Parsed['ssh'];
/** Paths are absolute, resolved on the worker's machine; jumpHost.user defaults to ssh.user. */
export type SshSpec = With<ParsedSsh, { jumpHost?: Required<NonNullable<ParsedSsh['jumpHost']>> }>;

/** External etcd that kubeadm-ha builds on these hosts (kubeadm's "Set up a High Availability etcd cluster" guide). */
export type BuiltEtcd = With<z.output<typeof builtEtcdSchema>, { hosts: HostSpec[] }>;
/** An etcd cluster that already runs: the API servers reach it with this client certificate (absolute paths). */
export type ExistingEtcd = z.output<typeof existingEtcdSchema>;
export type EtcdSpec = BuiltEtcd | ExistingEtcd;
export const isBuiltEtcd = (e: EtcdSpec): e is BuiltEtcd => 'hosts' in e;

/** The loaded file: defaults applied, host ports filled in, paths absolute, cni.manifest as cniManifest. */
export type ClusterSpec = With<Omit<Parsed, 'cni'>, {
  /** Only with topology external. */
  etcd?: EtcdSpec;
  /** Absolute path to the CNI manifest applied after init. */
  cniManifest: string;
  ssh: SshSpec;
  controlPlanes: HostSpec[];
  workers: HostSpec[];
  /** Absent in the specs of histories from before the section existed. */
  kubeadm?: Parsed['kubeadm'];
  kubeletConfiguration?: Record<string, unknown>;
  kubeProxyConfiguration?: Record<string, unknown>;
}>;
