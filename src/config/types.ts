// The validated cluster file. It is the workflow's input, so it holds paths to secrets
// (private key, known_hosts), never the secrets themselves: workflow input lives in history.
//
// One source of truth: the shapes are derived from the zod schema in ./schema (which also yields the
// committed JSON Schema). Only type imports come from there, so workflow code that imports this
// module does not load zod. The fields' enums are in ./enums.
import type { z } from 'zod';
import type { clusterFileSchema } from './schema';
import type { builtEtcdSchema, existingEtcdSchema, removableHostSchema } from './schema-parts';

/** T with the fields of O replacing its own: what loading adds to the file's shape (defaults from other fields, resolved paths). */
type With<T, O> = Omit<T, keyof O> & O;

type Parsed = z.output<typeof clusterFileSchema>;

/**
 * A host: name (node name), address (SSH and advertise address), port (SSH; defaults to ssh.port);
 * `remove`: a control plane or worker to take out of the cluster.
 */
export type HostSpec = With<z.output<ReturnType<typeof removableHostSchema>>, { port: number }>;

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
export type ClusterSpec = With<
  Omit<Parsed, 'cni'>,
  {
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
  }
>;
