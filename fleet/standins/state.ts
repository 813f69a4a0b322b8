// Cluster-wide state ("what the API server and etcd would know"), kept in <dir>/cluster/ outside
// the host namespaces, guarded by a lock because worker joins run in parallel.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clusterDir } from '../layout';
import { withFileLock } from '../lock';

export interface BootstrapToken {
  id: string;
  secret: string;
  /** epoch ms; null = never expires */
  expires: number | null;
  usages: string[];
  description: string;
  groups: string[];
}

export interface NodeRecord {
  name: string;
  /** The kubelet registers every Node as 'worker' (no role label); mark-control-plane labels it. */
  role: 'control-plane' | 'worker';
  address: string;
  createdAt: number;
  version: string;
}

export interface EtcdMember {
  /** 16 hex digits (see newEtcdId) */
  id: string;
  name: string;
  peerURL: string;
  clientURL: string;
}

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  hash: string;
}

export interface CertsSecret {
  /** AES-256-GCM encrypted file contents, base64(iv|tag|ciphertext) per file name. */
  data: Record<string, string>;
  expires: number;
}

export interface ClusterState {
  initialized: boolean;
  clusterName: string;
  kubernetesVersion: string;
  /** host:port or '' when the cluster has no controlPlaneEndpoint */
  controlPlaneEndpoint: string;
  /** PEM of the cluster CA, published in cluster-info */
  caCert: string;
  clusterConfiguration: Record<string, unknown>;
  tokens: BootstrapToken[];
  nodes: Record<string, NodeRecord>;
  etcdMembers: EtcdMember[];
  etcdClusterId: string;
  applied: Record<string, AppliedObject>;
  cniApplied: boolean;
  certsSecret?: CertsSecret;
}

export function emptyState(): ClusterState {
  return {
    initialized: false,
    clusterName: 'kubernetes',
    kubernetesVersion: '',
    controlPlaneEndpoint: '',
    caCert: '',
    clusterConfiguration: {},
    tokens: [],
    nodes: {},
    etcdMembers: [],
    etcdClusterId: '',
    applied: {},
    cniApplied: false,
  };
}

const file = (dir: string): string => path.join(clusterDir(dir), 'state.json');

export function readState(dir: string): ClusterState {
  try {
    return { ...emptyState(), ...(JSON.parse(fs.readFileSync(file(dir), 'utf8')) as ClusterState) };
  } catch {
    return emptyState();
  }
}

export function updateState<T>(dir: string, fn: (s: ClusterState) => T): T {
  fs.mkdirSync(clusterDir(dir), { recursive: true });
  return withFileLock(path.join(clusterDir(dir), 'state.lock'), () => {
    const s = readState(dir);
    const out = fn(s);
    const tmp = `${file(dir)}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(s, null, 2));
    fs.renameSync(tmp, file(dir));
    return out;
  });
}

/** etcd IDs are random uint64s; a non-zero top digit keeps etcdctl's %x rendering at 16 digits. */
export function newEtcdId(): string {
  const b = crypto.randomBytes(8);
  b[0] |= 0x10;
  return b.toString('hex');
}

export function liveTokens(s: ClusterState, now = Date.now()): BootstrapToken[] {
  return s.tokens.filter((t) => t.expires === null || t.expires > now);
}
