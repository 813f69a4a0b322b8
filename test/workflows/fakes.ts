// Stand-in activities for workflow tests: they record every call (with its journal id) and let a
// test decide, per step and host, what happens. The real ones run in the e2e and fault tests.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ClusterReading, HostFacts, OnHost, TokenRef } from '../../src/activities/types';
import type { KubeadmHaActivities } from '../../src/workflows/activities';
import type { ClusterSpec } from '../../src/config/types';
import type { NodeFiles } from '../../src/kubeadm/node-state';
import type { NodeVersions } from '../../src/kubeadm/upgrade-node';

export const spec = (approvals: ClusterSpec['approvals'] = [], workers = 4): ClusterSpec => ({
  name: 'wf-test',
  kubernetesVersion: 'v1.31.4',
  topology: 'stacked',
  certificates: 'copy',
  loadBalancer: { host: 'lb.example', port: 6443 },
  networking: { podSubnet: '192.168.0.0/16' },
  cniManifest: '/dev/null',
  ssh: {
    user: 'kha',
    privateKeyFile: '/k',
    knownHostsFile: '/kh',
    port: 22,
    hostKeyPolicy: 'strict',
    forwardAgent: false,
  },
  controlPlanes: ['cp1', 'cp2', 'cp3'].map((name, i) => ({ name, address: `10.0.0.${i + 1}`, port: 22 })),
  workers: Array.from({ length: workers }, (_, i) => ({ name: `w${i + 1}`, address: `10.0.1.${i + 1}`, port: 22 })),
  approvals,
  workerConcurrency: 2,
});

export const CLEAN: NodeFiles = {
  adminConf: false,
  kubeletConf: false,
  bootstrapKubeletConf: false,
  manifests: [],
  etcdData: false,
};
export const JOINED_CP: NodeFiles = {
  adminConf: true,
  kubeletConf: true,
  bootstrapKubeletConf: false,
  manifests: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'],
  etcdData: true,
};
export const JOINED_WORKER: NodeFiles = { ...CLEAN, kubeletConf: true };
const row = (name: string, roles: string[], ready = true) => ({
  name,
  status: ready ? 'Ready' : 'NotReady',
  roles,
  version: 'v1.31.4',
  ready,
});
/** The files and the cluster view of a finished 3+N stacked cluster from `spec`. */
export function finished(workers = 4): {
  files: Record<string, NodeFiles>;
  cluster: ClusterReading & { nodes: unknown[] };
} {
  const cps = ['cp1', 'cp2', 'cp3'];
  const ws = Array.from({ length: workers }, (_, i) => `w${i + 1}`);
  return {
    files: Object.fromEntries([
      ...cps.map((c) => [c, { ...JOINED_CP, caCert: true }]),
      ...ws.map((w) => [w, JOINED_WORKER]),
    ]),
    cluster: {
      caCertHash: `sha256:${'b'.repeat(64)}`,
      via: 'through the load balancer',
      nodes: [...cps.map((c) => row(c, ['control-plane'])), ...ws.map((w) => row(w, []))],
      etcdMembers: cps.map((name, i) => ({
        id: `a${i + 1}`,
        name,
        peerURLs: [`https://10.0.0.${i + 1}:2380`],
        clientURLs: [],
        started: true,
        learner: false,
      })),
    },
  };
}

export interface Call {
  name: string;
  host?: string;
  stepId?: string;
  /** The join token's ID a join was given. */
  token?: string;
  attempt: number;
  /** What the activity was given. */
  input?: unknown;
}

export interface FakeOptions {
  /** Throw to fail a step; called with the step name, host and Temporal attempt. */
  behave?: (name: string, host: string | undefined, call: Call) => void | Promise<void>;
  files?: Record<string, NodeFiles>;
  /** What readCluster answers (a function: read at each call). */
  cluster?: ClusterReading | (() => ClusterReading);
  tokenTtlMs?: number;
  /** Each node's versions (readNodeVersions); the upgrade fakes move a node to the version they upgrade it to. */
  versions?: Record<string, NodeVersions>;
}

/** A node's versions at `v`: a control plane's static pods too. */
export const nodeAt = (v: string, controlPlane: boolean): NodeVersions => ({
  kubeadm: v,
  kubelet: v,
  staticPods: controlPlane
    ? { 'kube-apiserver': v, 'kube-controller-manager': v, 'kube-scheduler': v, etcd: '3.5.15-0' }
    : {},
});

export function fakeActivities(calls: Call[], o: FakeOptions = {}): KubeadmHaActivities {
  let minted = 0;
  const record = async (name: string, input: Partial<OnHost> & { stepId?: string; token?: TokenRef }) => {
    const call: Call = {
      name,
      host: input.host?.name,
      attempt: Context.current().info.attempt,
      input,
      ...(input.stepId ? { stepId: input.stepId } : {}),
      ...(input.token ? { token: input.token.id } : {}),
    };
    calls.push(call);
    await o.behave?.(name, call.host, call);
    return call;
  };
  const step = (name: string) => async (input: OnHost & { stepId?: string }) => {
    await record(name, input);
    return { host: input.host.name, alreadyDone: false, detail: `${name} ok` };
  };
  return {
    inspectHost: async (input): Promise<HostFacts> => {
      await record('inspectHost', input);
      return {
        name: input.host.name,
        hostname: input.host.name,
        kubeadmVersion: 'v1.31.4',
        files: o.files?.[input.host.name] ?? CLEAN,
      };
    },
    readCluster: async (input) => {
      await record('readCluster', input);
      return (typeof o.cluster === 'function' ? o.cluster() : o.cluster) ?? null;
    },
    probeLoadBalancer: async (input) => {
      await record('probeLoadBalancer', input);
      return { outcome: 'refused', message: 'ok' };
    },
    kubeadmInit: async (input) => {
      await record('kubeadmInit', input);
      return {
        host: input.host.name,
        alreadyDone: false,
        detail: 'initialised',
        caCertHash: `sha256:${'a'.repeat(64)}`,
      };
    },
    installCni: step('installCni'),
    waitForSystemPods: step('waitForSystemPods'),
    distributeCerts: step('distributeCerts'),
    uploadCerts: step('uploadCerts'),
    removeCertificateKey: step('removeCertificateKey'),
    buildEtcdMember: step('buildEtcdMember'),
    checkEtcdCluster: step('checkEtcdCluster'),
    installEtcdClientCerts: step('installEtcdClientCerts'),
    joinNode: async (input) => {
      await record('joinNode', input);
      await new Promise((r) => setTimeout(r, 30));
      return { host: input.host.name, alreadyDone: false, detail: `joined as ${input.role} with ${input.token.id}` };
    },
    cleanNode: async (input) => {
      await record('cleanNode', input);
      return { host: input.host.name, cleaned: true, detail: 'kubeadm reset -f' };
    },
    removeNode: async (input) => {
      await record('removeNode', input);
      return { host: input.host.name, alreadyDone: false, detail: `removed through ${input.via.name}` };
    },
    resetNode: async (input) => {
      await record('resetNode', input);
      return { host: input.host.name, alreadyDone: false, detail: `reset (approved by ${input.approvedBy})` };
    },
    ensureJoinToken: async (input): Promise<TokenRef> => {
      await record('ensureJoinToken', input);
      // On the server's clock, which the workflow reads too: the time-skipping server runs ahead of this one.
      const now = Context.current().info.currentAttemptScheduledTimestampMs;
      return { id: `tok${++minted}`, expiresAt: new Date(now + (o.tokenTtlMs ?? 3600_000)).toISOString() };
    },
    deleteJoinTokens: async (input) => {
      calls.push({ name: `deleteJoinTokens:${input.ids.join(',')}`, attempt: 1 });
      return { deleted: input.ids, leftToExpire: [] };
    },
    readNodeVersions: async (input) => {
      await record('readNodeVersions', input);
      const v = o.versions?.[input.host.name];
      if (!v) throw new Error(`no versions for ${input.host.name}`);
      return structuredClone(v);
    },
    readKubeadmUpgradePlan: async (input) => {
      await record('readKubeadmUpgradePlan', input);
      return `kubeadm upgrade plan: kube-apiserver v1.30.6 -> ${input.version}`;
    },
    backupCluster: async (input) => {
      await record('backupCluster', input);
      return {
        host: input.host.name,
        alreadyDone: false,
        dir: `/var/lib/kubeadm-ha/backups/${input.version}`,
        sha256: { 'etcd-snapshot.db': 'c'.repeat(64) },
        detail: 'backed up',
      };
    },
    upgradeKubeadm: async (input) => {
      await record('upgradeKubeadm', input);
      const v = o.versions?.[input.host.name];
      if (v) {
        v.kubeadm = input.version;
        for (const c of Object.keys(v.staticPods) as (keyof NodeVersions['staticPods'])[])
          if (c !== 'etcd') v.staticPods[c] = input.version;
      }
      return { host: input.host.name, alreadyDone: false, detail: `kubeadm part to ${input.version}` };
    },
    upgradeKubelet: async (input) => {
      await record('upgradeKubelet', input);
      const v = o.versions?.[input.host.name];
      if (v) v.kubelet = input.version;
      return { host: input.host.name, alreadyDone: false, detail: `kubelet at ${input.version}` };
    },
    verifyNodes: async (input) => {
      await record('verifyNodes', input);
      return {
        nodes: input.expected.map((e) => ({
          name: e.name,
          ready: true,
          roles: e.role === 'control-plane' ? ['control-plane'] : [],
        })),
      };
    },
  };
}

/** A failure kubeadm cannot heal by itself, as the real activities throw it. */
export const preflight = (host: string) =>
  ApplicationFailure.nonRetryable(
    `${host}: kubeadm join as worker failed (exit 1): kubeadm preflight failed. Checks: Port-10250 (Port 10250 is in use)`,
    'KubeadmPreflight',
  );
export const transient = (host: string) =>
  ApplicationFailure.nonRetryable(
    `${host}: kubeadm join as worker failed (exit 1): kubelet-start did not finish (error uploading crisocket: timed out waiting for the condition)`,
    'KubeadmTransient',
  );
