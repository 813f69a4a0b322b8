// Stand-in kube-apiserver (also holding the ports of the other control-plane static pods, and on
// stacked control planes etcd's v3 JSON gateway on 2379). Serves HTTPS with the node's real
// certificates; state comes from <dir>/cluster; `stop` faults close the listeners (see switchable).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as YAML from 'yaml';
import { hostEnv } from './env';
import { liveTokens, readState, updateState } from './state';
import { nodeViews, podViews } from './views';
import { signCSR } from './pki';
import { applyObjects } from './apply';
import { exec, membersResponse, removeMember } from './etcdctl';
import { stoppedHere } from './faultcheck';
import { ControlPlaneComponent } from '../types';
import {
  EtcdClient,
  etcdDelete,
  etcdGet,
  etcdList,
  etcdPut,
  etcdReachable,
  externalEtcdClient,
  nodeKey,
  nodeObject,
  nodeRecord,
  tokenKey,
  tokenSecret,
} from './etcdstore';

const e = hostEnv();
const PKI = '/etc/kubernetes/pki';
const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
/** etcd.external: Node objects and bootstrap token Secrets live in that etcd (the cluster state mirrors them). */
const etcd: EtcdClient | undefined = externalEtcdClient();

/** Detached HS256 JWS over the cluster-info kubeconfig, as the bootstrap signer controller does. */
function jws(content: string, id: string, secret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: id }));
  const sig = crypto
    .createHmac('sha256', secret)
    .update(`${header}.${b64url(content)}`)
    .digest();
  return `${header}..${b64url(sig)}`;
}

function clusterInfo(): unknown {
  const s = readState(e.dir);
  const kubeconfig = YAML.stringify({
    apiVersion: 'v1',
    clusters: [
      {
        cluster: {
          'certificate-authority-data': Buffer.from(s.caCert).toString('base64'),
          server: `https://${s.controlPlaneEndpoint || `${e.address}:6443`}`,
        },
        name: '',
      },
    ],
    contexts: null,
    'current-context': '',
    kind: 'Config',
    preferences: {},
    users: null,
  });
  const data: Record<string, string> = { kubeconfig };
  for (const t of liveTokens(s))
    if (t.usages.includes('signing')) data[`jws-kubeconfig-${t.id}`] = jws(kubeconfig, t.id, t.secret);
  return { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data };
}

function notFound(kind: string, name: string): [number, unknown] {
  return [
    404,
    {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: `${kind} "${name}" not found`,
      reason: 'NotFound',
      code: 404,
    },
  ];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
async function route(method: string, url: URL, body: any, auth: string): Promise<[number, unknown]> {
  const p = url.pathname;
  if (['/healthz', '/livez', '/readyz'].includes(p)) {
    if (etcd && p !== '/livez' && !(await etcdReachable(etcd)))
      return [500, '[-]etcd failed: reason withheld\nhealthz check failed'];
    return [200, 'ok'];
  }
  if (p === '/version')
    return [200, { major: '1', minor: String(e.minor), gitVersion: e.version, platform: 'linux/amd64' }];
  if (p === '/api/v1/namespaces/kube-public/configmaps/cluster-info') return [200, clusterInfo()];
  const s = readState(e.dir);
  // The Nodes come from etcd (read back, not from the mirror).
  if (etcd && (p === '/api/v1/nodes' || p === '/api/v1/pods' || /\/pods\/[^/]+\/exec$/.test(p))) {
    s.nodes = Object.fromEntries((await etcdList(etcd, '/registry/minions/')).map(nodeRecord).map((n) => [n.name, n]));
  }
  if (p === '/api/v1/namespaces/kube-system/configmaps/kubeadm-config') {
    return [
      200,
      {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
        data: { ClusterConfiguration: YAML.stringify(s.clusterConfiguration) },
      },
    ];
  }
  if (p === '/api/v1/nodes' && method === 'GET') return [200, { kind: 'NodeList', items: nodeViews(s, e.dir) }];
  if (p === '/api/v1/nodes' && method === 'POST') {
    // The kubelet's registration: a re-registering Node keeps its labels (its role), a new one has none.
    const stored = etcd ? await etcdGet(etcd, nodeKey(body.name)) : undefined;
    const rec = updateState(e.dir, (st) => {
      const old = stored ? nodeRecord(stored) : st.nodes[body.name];
      return (st.nodes[body.name] = {
        name: body.name,
        role: old?.role ?? 'worker',
        address: body.address,
        version: body.version,
        createdAt: old?.createdAt ?? Date.now(),
      });
    });
    if (etcd) await etcdPut(etcd, nodeKey(body.name), nodeObject(rec));
    return [201, { name: body.name }];
  }
  const node = /^\/api\/v1\/nodes\/([^/]+)$/.exec(p);
  if (node && method === 'PATCH' && etcd) {
    const stored = await etcdGet(etcd, nodeKey(node[1]));
    if (!stored) return notFound('nodes', node[1]);
    const rec = { ...nodeRecord(stored), role: body.role };
    await etcdPut(etcd, nodeKey(node[1]), nodeObject(rec));
    updateState(e.dir, (st) => void (st.nodes[node[1]] = rec));
    return [200, { name: node[1] }];
  }
  if (node && method === 'PATCH') {
    // mark-control-plane's label.
    const found = updateState(e.dir, (st) => !!st.nodes[node[1]] && ((st.nodes[node[1]].role = body.role), true));
    return found ? [200, { name: node[1] }] : notFound('nodes', node[1]);
  }
  if (node && method === 'DELETE') {
    if (etcd && !(await etcdDelete(etcd, nodeKey(node[1])))) return notFound('nodes', node[1]);
    const found = updateState(e.dir, (st) => {
      const had = !!st.nodes[node[1]];
      delete st.nodes[node[1]];
      return had;
    });
    return found || etcd ? [200, { name: node[1] }] : notFound('nodes', node[1]);
  }
  if (p === '/api/v1/pods') return [200, { kind: 'PodList', items: podViews(s, e.dir) }];
  const execIn = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(p);
  if (execIn && method === 'POST') {
    const pod = podViews(s, e.dir).find((x) => x.namespace === execIn[1] && x.name === execIn[2]);
    return pod ? [200, exec(e.dir, pod, body.command)] : notFound('pods', execIn[2]);
  }
  if (p === '/api/v1/namespaces/kube-system/secrets' && method === 'POST') {
    if (etcd) await etcdPut(etcd, tokenKey(body.id), tokenSecret(body));
    updateState(e.dir, (st) => st.tokens.push(body));
    return [201, { id: body.id }];
  }
  if (p === '/api/v1/namespaces/kube-system/secrets' && method === 'GET') return [200, { items: s.tokens }];
  const tokenPath = /^\/api\/v1\/namespaces\/kube-system\/secrets\/bootstrap-token-([a-z0-9]{6})$/.exec(p);
  if (tokenPath && method === 'DELETE') {
    if (etcd) await etcdDelete(etcd, tokenKey(tokenPath[1]));
    const found = updateState(e.dir, (st) => {
      const before = st.tokens.length;
      st.tokens = st.tokens.filter((t) => t.id !== tokenPath[1]);
      return st.tokens.length < before;
    });
    return found ? [200, {}] : notFound('secrets', `bootstrap-token-${tokenPath[1]}`);
  }
  if (p === '/api/v1/namespaces/kube-system/secrets/kubeadm-certs') {
    if (method === 'PUT') {
      updateState(e.dir, (st) => (st.certsSecret = body));
      return [200, {}];
    }
    if (!s.certsSecret || s.certsSecret.expires < Date.now()) return notFound('secrets', 'kubeadm-certs');
    return [200, s.certsSecret];
  }
  if (p === '/apis/certificates.k8s.io/v1/certificatesigningrequests' && method === 'POST') {
    const tok = auth.replace(/^Bearer /, '');
    const ok = liveTokens(s).some((t) => `${t.id}.${t.secret}` === tok && t.usages.includes('authentication'));
    if (!ok)
      return [401, { kind: 'Status', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }];
    const cert = await signCSR(`${PKI}/ca.crt`, `${PKI}/ca.key`, body.csr, 'client');
    return [201, { certificate: cert }];
  }
  if (p === '/apis/fleet.local/v1/apply' && method === 'POST') return [200, applyObjects(e.dir, body.objects)];
  return notFound('path', p);
}

/** Reads a JSON request body; undefined when empty, null when it does not parse. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
function readBody(req: http.IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
      } catch {
        resolve(null);
      }
    });
  });
}

/** grpc-gateway's error body: the gRPC status (codes.NotFound = 5, InvalidArgument = 3). */
const grpcError = (msg: string, code: number): { error: string; message: string; code: number } => ({
  error: msg,
  message: msg,
  code,
});

/**
 * etcd's v3 JSON gateway (api/etcdserverpb/gw/rpc.pb.gw.go), for the two Cluster calls the
 * orchestrator makes with curl: POST /v3/cluster/member/list and /v3/cluster/member/remove.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
function etcdGateway(method: string, p: string, body: any): [number, unknown] {
  const post = method === 'POST';
  if (post && body === null) return [400, grpcError('invalid character in request body', 3)];
  if (post && p === '/v3/cluster/member/list') return [200, membersResponse(readState(e.dir), e.host)];
  if (post && p === '/v3/cluster/member/remove') {
    // uint64 in protobuf JSON: a decimal string or a number; absent is 0 (no such member).
    const raw = (body as { ID?: unknown } | undefined)?.ID ?? '0';
    if (!/^\d+$/.test(String(raw)))
      return [400, grpcError(`json: cannot unmarshal ${JSON.stringify(raw)} into uint64`, 3)];
    if (!removeMember(e.dir, BigInt(String(raw)))) return [404, grpcError('etcdserver: member not found', 5)];
    return [200, membersResponse(readState(e.dir), e.host)];
  }
  return [404, grpcError('Not Found', 5)];
}

/**
 * A static pod's listener as its process: closed (connections refused, open ones cut) while a fault
 * stops the component, listening again when it is started.
 */
function switchable(server: net.Server, ports: number[], component: ControlPlaneComponent): () => void {
  const listeners = ports.map((port, i) =>
    (i === 0 ? server : net.createServer((c) => c.destroy())).on('error', (err) =>
      console.error(`${component} :${port}: ${err.message}`),
    ),
  );
  let up = false;
  return () => {
    const want = !stoppedHere().includes(component);
    if (want === up) return;
    up = want;
    listeners.forEach((l, i) => {
      if (want)
        l.listen(ports[i], e.address, () =>
          console.log(`${component} stand-in for ${e.host} on ${e.address}:${ports[i]}`),
        );
      else {
        l.close();
        (l as http.Server).closeAllConnections?.();
      }
    });
  };
}

function serve(): void {
  const server = https.createServer(
    { cert: fs.readFileSync(`${PKI}/apiserver.crt`), key: fs.readFileSync(`${PKI}/apiserver.key`) },
    (req, res) => {
      void readBody(req).then((body) =>
        route(
          req.method ?? 'GET',
          new URL(req.url ?? '/', 'https://x'),
          body ?? undefined,
          String(req.headers.authorization ?? ''),
        ).then(
          ([code, out]) => {
            res.writeHead(code, {
              'content-type': typeof out === 'string' ? 'text/plain' : 'application/json',
              'x-fleet-node': e.host,
            });
            res.end(typeof out === 'string' ? out : JSON.stringify(out));
          },
          (err: Error) => {
            res.writeHead(500, { 'x-fleet-node': e.host });
            res.end(JSON.stringify({ message: err.message }));
          },
        ),
      );
    },
  );
  const sync = [switchable(server, [6443], 'kube-apiserver')];
  // The other control-plane components only need to hold their ports (preflight sees them).
  for (const port of [10257, 10259]) net.createServer((c) => c.destroy()).listen(port, e.address);
  if (fs.existsSync('/etc/kubernetes/manifests/etcd.yaml')) {
    // Mutual TLS as kubeadm configures etcd (--client-cert-auth with --trusted-ca-file).
    const tls = {
      cert: fs.readFileSync(`${PKI}/etcd/server.crt`),
      key: fs.readFileSync(`${PKI}/etcd/server.key`),
      ca: fs.readFileSync(`${PKI}/etcd/ca.crt`),
      requestCert: true,
      rejectUnauthorized: true,
    };
    const gateway = https.createServer(tls, (req, res) => {
      void readBody(req).then((body) => {
        const [code, out] = etcdGateway(req.method ?? 'GET', new URL(req.url ?? '/', 'https://x').pathname, body);
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
      });
    });
    sync.push(switchable(gateway, [2379, 2380], 'etcd'));
  }
  // Poll the fault file: cheap, and it is replaced by rename (which fs.watch on the path would miss).
  const tick = (): void => sync.forEach((f) => f());
  tick();
  setInterval(tick, 200);
}

process.on('SIGTERM', () => process.exit(0));
/**
 * Like the real API server, which needs its storage before it serves: with etcd.external, retry etcd
 * for a while, then exit (the init's wait-control-plane / api-check then fails).
 */
async function main(): Promise<void> {
  if (etcd) {
    const until = Date.now() + 15000;
    while (!(await etcdReachable(etcd))) {
      if (Date.now() > until) {
        console.error(`Error: failed to reach etcd at ${etcd.endpoints.join(',')}: context deadline exceeded`);
        process.exit(1);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  serve();
}
void main();
