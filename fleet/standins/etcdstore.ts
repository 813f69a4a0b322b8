// The stand-in API server's storage when the cluster uses etcd.external: a real etcd, through its v3
// JSON gateway (POST /v3/kv/put|range|deleterange, base64 keys and values) with the API server's
// --etcd-cafile/--etcd-certfile/--etcd-keyfile. Objects are kept under the API server's keys
// (/registry/minions/<node>, /registry/secrets/<ns>/<name>) as JSON (the real one writes protobuf).
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as YAML from 'yaml';
import { BootstrapToken, NodeRecord } from './state';

export interface EtcdClient {
  endpoints: string[];
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const MANIFESTS = '/etc/kubernetes/manifests';

/** From this node's kube-apiserver manifest; undefined on a stacked control plane (it has an etcd manifest). */
export function externalEtcdClient(): EtcdClient | undefined {
  if (fs.existsSync(`${MANIFESTS}/etcd.yaml`)) return undefined;
  let command: string[] = [];
  try {
    command = (
      YAML.parse(fs.readFileSync(`${MANIFESTS}/kube-apiserver.yaml`, 'utf8')) as {
        spec: { containers: Array<{ command: string[] }> };
      }
    ).spec.containers[0].command;
  } catch {
    return undefined;
  }
  const flag = (n: string): string | undefined => command.find((a) => a.startsWith(`--${n}=`))?.slice(n.length + 3);
  const servers = flag('etcd-servers');
  if (!servers) return undefined;
  const read = (n: string): Buffer | undefined => (flag(n) ? fs.readFileSync(flag(n)!) : undefined);
  return {
    endpoints: servers.split(','),
    ca: read('etcd-cafile'),
    cert: read('etcd-certfile'),
    key: read('etcd-keyfile'),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
function post(c: EtcdClient, endpoint: string, path: string, body: unknown, timeoutMs: number): Promise<any> {
  const u = new URL(path, endpoint);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        agent: false,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`etcd ${endpoint}${path}: ${res.statusCode} ${text}`));
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`etcd ${endpoint}${path}: bad JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`etcd ${endpoint}: context deadline exceeded`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Tries the endpoints in order, like the etcd client's balancer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
async function call(c: EtcdClient, path: string, body: unknown, timeoutMs = 3000): Promise<any> {
  let last: unknown;
  for (const ep of c.endpoints) {
    try {
      return await post(c, ep, path, body, timeoutMs);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
/** The range end of a prefix: its last byte plus one (clientv3.GetPrefixRangeEnd). */
function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix);
  b[b.length - 1] += 1;
  return b.toString('base64');
}

export async function etcdPut(c: EtcdClient, key: string, value: unknown): Promise<void> {
  await call(c, '/v3/kv/put', { key: b64(key), value: b64(JSON.stringify(value)) });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
export async function etcdGet(c: EtcdClient, key: string): Promise<any | undefined> {
  const r = await call(c, '/v3/kv/range', { key: b64(key) });
  return r.kvs?.length ? JSON.parse(unb64(r.kvs[0].value)) : undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
export async function etcdList(c: EtcdClient, prefix: string): Promise<any[]> {
  const r = await call(c, '/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) });
  return (r.kvs ?? []).map((kv: { value: string }) => JSON.parse(unb64(kv.value)));
}

export async function etcdDelete(c: EtcdClient, key: string): Promise<boolean> {
  const r = await call(c, '/v3/kv/deleterange', { key: b64(key) });
  return Number(r.deleted ?? 0) > 0;
}

/** The storage check the API server does before serving (a quick read). */
export async function etcdReachable(c: EtcdClient): Promise<boolean> {
  try {
    await call(c, '/v3/kv/range', { key: b64('/registry/health'), serializable: true }, 1000);
    return true;
  } catch {
    return false;
  }
}

export const nodeKey = (name: string): string => `/registry/minions/${name}`;
export const tokenKey = (id: string): string => `/registry/secrets/kube-system/bootstrap-token-${id}`;
const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export function nodeObject(n: NodeRecord): unknown {
  const cp = n.role === 'control-plane';
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: {
      name: n.name,
      creationTimestamp: rfc3339(n.createdAt),
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        ...(cp
          ? {
              'node-role.kubernetes.io/control-plane': '',
              'node.kubernetes.io/exclude-from-external-load-balancers': '',
            }
          : {}),
      },
    },
    spec: cp ? { taints: [{ effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane' }] } : {},
    status: {
      addresses: [
        { type: 'InternalIP', address: n.address },
        { type: 'Hostname', address: n.name },
      ],
      nodeInfo: { kubeletVersion: n.version },
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
export function nodeRecord(o: any): NodeRecord {
  return {
    name: o.metadata.name,
    role: 'node-role.kubernetes.io/control-plane' in (o.metadata.labels ?? {}) ? 'control-plane' : 'worker',
    address: o.status?.addresses?.find((a: { type: string }) => a.type === 'InternalIP')?.address ?? '',
    createdAt: Date.parse(o.metadata.creationTimestamp),
    version: o.status?.nodeInfo?.kubeletVersion ?? '',
  };
}

/** A bootstrap token Secret (type bootstrap.kubernetes.io/token), as kubeadm's bootstrap-token phase creates it. */
export function tokenSecret(t: BootstrapToken): unknown {
  const data: Record<string, string> = {
    'token-id': b64(t.id),
    'token-secret': b64(t.secret),
    description: b64(t.description),
  };
  if (t.expires !== null) data.expiration = b64(rfc3339(t.expires));
  for (const u of t.usages) data[`usage-bootstrap-${u}`] = b64('true');
  if (t.groups.length) data['auth-extra-groups'] = b64(t.groups.join(','));
  return {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: { name: `bootstrap-token-${t.id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data,
  };
}
