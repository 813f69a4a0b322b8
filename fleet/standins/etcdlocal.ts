// `kubeadm init phase etcd local [--config F]` (cmd/kubeadm/app/cmd/phases/init/etcd.go): the etcd
// static Pod manifest of cmd/kubeadm/app/phases/etcd/local.go (GetEtcdPodSpec, getEtcdCommand), with
// etcd.local.extraArgs merged over the defaults and sorted by name (kubeadmutil.ArgumentsToCommand).
import * as fs from 'node:fs';
import * as YAML from 'yaml';
import { hostEnv } from './env';
import { ExitError, phaseError } from './errors';
import { parseFlags } from './flags';
import { out } from './nodesetup';
import { PhaseConfig, phaseConfig } from './etcdcerts';

const MANIFESTS = '/etc/kubernetes/manifests';
const FLAGS = {
  'cert-dir': 'string',
  config: 'string',
  'image-repository': 'string',
  patches: 'string',
  'dry-run': 'bool',
  v: 'string',
} as const;

/** extraArgs: a map up to v1beta3, a list of {name, value} from v1beta4 (config.ts checks the shape). */
function extraArgs(v: unknown): Array<[string, string]> {
  if (Array.isArray(v))
    return v.map((a: { name?: unknown; value?: unknown }) => [String(a.name), String(a.value ?? '')]);
  return v && typeof v === 'object' ? Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]) : [];
}

export function etcdCommand(c: PhaseConfig, minor: number): string[] {
  const client = `https://${c.advertiseAddress}:2379`;
  const peer = `https://${c.advertiseAddress}:2380`;
  const pki = c.certDir;
  const dataDir = String(c.etcd.local?.dataDir ?? '/var/lib/etcd');
  // etcd 3.6 (kubeadm 1.34) graduated the experimental flags kubeadm sets.
  const etcd36 = minor >= 34;
  const defaults: Array<[string, string]> = [
    ['name', c.nodeName],
    etcd36 ? ['feature-gates', 'InitialCorruptCheck=true'] : ['experimental-initial-corrupt-check', 'true'],
    ['listen-client-urls', `https://127.0.0.1:2379,${client}`],
    ['advertise-client-urls', client],
    ['listen-peer-urls', peer],
    ['initial-advertise-peer-urls', peer],
    ['data-dir', dataDir],
    ['cert-file', `${pki}/etcd/server.crt`],
    ['key-file', `${pki}/etcd/server.key`],
    ['trusted-ca-file', `${pki}/etcd/ca.crt`],
    ['client-cert-auth', 'true'],
    ['peer-cert-file', `${pki}/etcd/peer.crt`],
    ['peer-key-file', `${pki}/etcd/peer.key`],
    ['peer-trusted-ca-file', `${pki}/etcd/ca.crt`],
    ['peer-client-cert-auth', 'true'],
    ['snapshot-count', '10000'],
    ['listen-metrics-urls', 'http://127.0.0.1:2381'],
    [etcd36 ? 'watch-progress-notify-interval' : 'experimental-watch-progress-notify-interval', '5s'],
    ['initial-cluster', `${c.nodeName}=${peer}`],
  ];
  const extra = extraArgs(c.etcd.local?.extraArgs);
  const overridden = new Set(extra.map(([n]) => n));
  const args = [...defaults.filter(([n]) => !overridden.has(n)), ...extra].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return ['etcd', ...args.map(([n, v]) => `--${n}=${v}`)];
}

export function etcdImage(minor: number, repo = 'registry.k8s.io'): string {
  return `${repo}/etcd:${minor >= 34 ? '3.6.4-0' : minor >= 33 ? '3.5.21-0' : minor >= 32 ? '3.5.16-0' : '3.5.15-0'}`;
}

export function etcdPod(c: PhaseConfig, minor: number, repo?: string): unknown {
  const dataDir = String(c.etcd.local?.dataDir ?? '/var/lib/etcd');
  const probe = (path: string, failureThreshold: number): unknown => ({
    failureThreshold,
    httpGet: { host: '127.0.0.1', path, port: 2381, scheme: 'HTTP' },
    initialDelaySeconds: 10,
    periodSeconds: 10,
    timeoutSeconds: 15,
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': `https://${c.advertiseAddress}:2379` },
      creationTimestamp: null,
      labels: { component: 'etcd', tier: 'control-plane' },
      name: 'etcd',
      namespace: 'kube-system',
    },
    spec: {
      containers: [
        {
          command: etcdCommand(c, minor),
          image: etcdImage(minor, repo),
          imagePullPolicy: 'IfNotPresent',
          livenessProbe: probe('/livez', 8),
          name: 'etcd',
          readinessProbe: {
            failureThreshold: 3,
            httpGet: { host: '127.0.0.1', path: '/readyz', port: 2381, scheme: 'HTTP' },
            periodSeconds: 1,
            timeoutSeconds: 15,
          },
          resources: { requests: { cpu: '100m', memory: '100Mi' } },
          startupProbe: probe('/readyz', 24),
          volumeMounts: [
            { mountPath: dataDir, name: 'etcd-data' },
            { mountPath: `${c.certDir}/etcd`, name: 'etcd-certs' },
          ],
        },
      ],
      hostNetwork: true,
      priority: 2000001000,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [
        { hostPath: { path: `${c.certDir}/etcd`, type: 'DirectoryOrCreate' }, name: 'etcd-certs' },
        { hostPath: { path: dataDir, type: 'DirectoryOrCreate' }, name: 'etcd-data' },
      ],
    },
    status: {},
  };
}

export async function etcdLocalPhase(argv: string[]): Promise<number> {
  const e = hostEnv();
  const p = parseFlags(argv, FLAGS, { v: 'v' });
  if (p.args.length) throw new ExitError(`unknown command "${p.args[0]}" for "kubeadm init phase etcd local"`);
  const c = phaseConfig(p, e);
  for (const w of c.warnings) process.stderr.write(w + '\n');
  // External etcd: the phase only logs at --v=1 ("External etcd mode. Skipping the creation of a manifest for local etcd").
  if (c.etcd.external) return 0;
  const dataDir = String(c.etcd.local?.dataDir ?? '/var/lib/etcd');
  try {
    // etcdutil.CreateDataDirectory: 0700, which etcd checks.
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dataDir, 0o700);
  } catch (err) {
    throw phaseError(
      'etcd/local',
      `failed to create etcd directory ${JSON.stringify(dataDir)}: ${(err as Error).message}`,
    );
  }
  out(`[etcd] Creating static Pod manifest for local etcd in "${MANIFESTS}"`);
  fs.mkdirSync(MANIFESTS, { recursive: true });
  fs.writeFileSync(
    `${MANIFESTS}/etcd.yaml`,
    YAML.stringify(etcdPod(c, e.minor, p.values.get('image-repository') as string | undefined)),
    { mode: 0o600 },
  );
  return 0;
}
