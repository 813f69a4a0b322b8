// Stand-in `kubectl`: get nodes/pods, get cm kubeadm-config, apply -f, delete node, exec — talking
// HTTPS to the server in the kubeconfig (normally the load balancer).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as YAML from 'yaml';
import { ExitError, runMain } from './errors';
import { applyFaults } from './faultcheck';
import { bool, parseFlags, str, list } from './flags';
import { ApiError, apiRequest, hostPort } from './http';
import { LoadedKubeconfig, parseKubeconfig } from './kubeconfig';
import { hostEnv, parseDuration } from './env';
import { controlPlaneRoles } from './texts';
import { NodeView, PodView } from './views';
import type { ExecResult } from './etcdctl';

const FLAGS = {
  kubeconfig: 'string',
  namespace: 'string',
  'all-namespaces': 'bool',
  filename: 'list',
  output: 'string',
  watch: 'bool',
  'request-timeout': 'string',
  v: 'string',
  'no-headers': 'bool',
  server: 'string',
  container: 'string',
} as const;
const fail = (msg: string): ExitError => new ExitError(msg, 1, false);

function kubeconfig(file: string | undefined): LoadedKubeconfig {
  if (file) {
    if (!fs.existsSync(file)) throw fail(`error: stat ${file}: no such file or directory`);
    return parseKubeconfig(fs.readFileSync(file, 'utf8'));
  }
  for (const f of [...(process.env.KUBECONFIG ?? '').split(':').filter(Boolean), `${os.homedir()}/.kube/config`]) {
    if (fs.existsSync(f)) return parseKubeconfig(fs.readFileSync(f, 'utf8'));
  }
  return { server: 'http://localhost:8080', caPem: '' };
}

async function request(
  kc: LoadedKubeconfig,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
): Promise<any> {
  const hp = hostPort(kc.server);
  if (kc.server.startsWith('http://'))
    throw fail(`The connection to the server ${hp} was refused - did you specify the right host or port?`);
  try {
    const r = await apiRequest({
      server: kc.server,
      method,
      path,
      body,
      caPem: kc.caPem,
      certPem: kc.certPem,
      keyPem: kc.keyPem,
      timeoutMs,
    });
    if (r.status >= 400)
      throw fail(
        `Error from server (${(r.body as { reason?: string }).reason ?? 'InternalError'}): ${(r.body as { message?: string }).message ?? r.status}`,
      );
    return r.body;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.kind === 'refused')
      throw fail(`The connection to the server ${hp} was refused - did you specify the right host or port?`);
    if (e.kind === 'timeout') throw fail(`Unable to connect to the server: dial tcp ${hp}: i/o timeout`);
    if (e.kind === 'tls') throw fail(`Unable to connect to the server: ${e.message}`);
    throw fail(`Unable to connect to the server: ${e.message}`);
  }
}

export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return `${d}d`;
}

/** tabwriter with padding 3, as kubectl's printers use. */
function table(rows: string[][], headers: boolean): string {
  const body = headers ? rows : rows.slice(1);
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return body.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i] + 3) : c)).join('')).join('\n') + '\n';
}

function readManifests(files: string[]): unknown[] {
  const docs: unknown[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = f === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(f, 'utf8');
    } catch {
      throw fail(`error: the path "${f}" does not exist`);
    }
    for (const d of YAML.parseAllDocuments(text)) {
      if (d.errors.length)
        throw fail(
          `error: error parsing ${f}: error converting YAML to JSON: yaml: ${d.errors[0].message.split('\n')[0]}`,
        );
      const o = d.toJS();
      if (o?.kind === 'List' && Array.isArray(o.items)) docs.push(...o.items);
      else if (o) docs.push(o);
    }
  }
  return docs;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  await applyFaults('kubectl', argv);
  const p = parseFlags(
    argv,
    FLAGS,
    {
      n: 'namespace',
      A: 'all-namespaces',
      f: 'filename',
      o: 'output',
      w: 'watch',
      v: 'v',
      s: 'server',
      c: 'container',
    },
    false,
  );
  const kc = kubeconfig(str(p, 'kubeconfig'));
  if (str(p, 'server')) kc.server = str(p, 'server')!;
  const timeout = str(p, 'request-timeout') ? parseDuration(str(p, 'request-timeout')!) || 30000 : 30000;
  const [verb, res, name] = p.args;
  const ns = str(p, 'namespace') ?? 'default';
  const minor = hostEnv().minor;
  const now = Date.now();
  const headers = !bool(p, 'no-headers');

  if (verb === 'apply') {
    if (!list(p, 'filename').length) throw fail('error: must specify one of -f and -k');
    const objects = readManifests(list(p, 'filename'));
    const r = (await request(kc, 'POST', '/apis/fleet.local/v1/apply', { objects }, timeout)) as {
      lines: string[];
      errors: string[];
    };
    r.lines.forEach((l) => process.stdout.write(l + '\n'));
    if (r.errors.length) throw fail(r.errors.map((e) => `error: ${e}`).join('\n'));
    return 0;
  }
  if (verb === 'get' && ['nodes', 'node', 'no'].includes(res)) {
    let items = ((await request(kc, 'GET', '/api/v1/nodes', undefined, timeout)) as { items: NodeView[] }).items;
    if (name) {
      items = items.filter((n) => n.name === name);
      if (!items.length) throw fail(`Error from server (NotFound): nodes "${name}" not found`);
    }
    if (str(p, 'output') === 'json')
      return (process.stdout.write(JSON.stringify({ kind: 'List', items }, null, 2) + '\n'), 0);
    if (str(p, 'output') === 'name') return (items.forEach((n) => process.stdout.write(`node/${n.name}\n`)), 0);
    if (!items.length) return (process.stderr.write('No resources found\n'), 0);
    const rows = [
      ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
      ...items.map((n) => [
        n.name,
        n.ready ? 'Ready' : 'NotReady',
        n.role === 'control-plane' ? controlPlaneRoles(minor) : '<none>',
        age(now - n.createdAt),
        n.version,
      ]),
    ];
    process.stdout.write(table(rows, headers));
    return 0;
  }
  if (verb === 'get' && ['pods', 'pod', 'po'].includes(res)) {
    const all = bool(p, 'all-namespaces');
    const items = ((await request(kc, 'GET', '/api/v1/pods', undefined, timeout)) as { items: PodView[] }).items
      .filter((x) => all || x.namespace === ns)
      .filter((x) => !name || x.name === name);
    if (str(p, 'output') === 'json')
      return (process.stdout.write(JSON.stringify({ kind: 'List', items }, null, 2) + '\n'), 0);
    if (!items.length)
      return (process.stderr.write(all ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`), 0);
    const head = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];
    const rows = [
      all ? ['NAMESPACE', ...head] : head,
      ...items.map((x) => [
        ...(all ? [x.namespace] : []),
        x.name,
        x.ready,
        x.status,
        String(x.restarts),
        age(now - x.createdAt),
      ]),
    ];
    process.stdout.write(table(rows, headers));
    return 0;
  }
  if (verb === 'get' && ['cm', 'configmap', 'configmaps'].includes(res) && name === 'kubeadm-config') {
    const cm = await request(kc, 'GET', '/api/v1/namespaces/kube-system/configmaps/kubeadm-config', undefined, timeout);
    process.stdout.write(str(p, 'output') === 'json' ? JSON.stringify(cm, null, 2) + '\n' : YAML.stringify(cm));
    return 0;
  }
  if (verb === 'delete' && ['node', 'nodes', 'no'].includes(res) && name) {
    await request(kc, 'DELETE', `/api/v1/nodes/${name}`, undefined, timeout);
    process.stdout.write(`node "${name}" deleted\n`);
    return 0;
  }
  if (verb === 'exec') {
    // p.args: exec <pod> <command...> (everything after `--` is the command).
    const [, pod, ...command] = p.args;
    if (!pod)
      throw fail(
        "error: expected 'exec POD_NAME COMMAND [ARG1] [ARG2] ... [ARGN]'.\nPOD_NAME and COMMAND are required arguments for the exec command",
      );
    if (!command.length) throw fail('error: you must specify at least one command for the container');
    const r = (await request(
      kc,
      'POST',
      `/api/v1/namespaces/${ns}/pods/${pod}/exec`,
      { command },
      timeout,
    )) as ExecResult;
    if ('error' in r) throw fail(`error: ${r.error}`);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    // kubectl's exec reports a failing remote command this way and exits with its code.
    if (r.exitCode !== 0) throw new ExitError(`command terminated with exit code ${r.exitCode}`, r.exitCode, false);
    return 0;
  }
  if (verb === 'version') {
    process.stdout.write(`Client Version: ${hostEnv().version}\nKustomize Version: v5.4.2\n`);
    return 0;
  }
  throw fail(`error: the fleet's kubectl stand-in does not support "${p.args.join(' ')}"`);
}

runMain(main);
