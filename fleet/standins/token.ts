// kubeadm token create / list.
import { hostEnv, parseDuration, formatDuration } from './env';
import { ExitError } from './errors';
import { bool, parseFlags, str, list } from './flags';
import { call, loadKubeconfigFile, urlError } from './client';
import { hostPort } from './http';
import { caCertHash } from './pki';
import { joinCommandOneLine } from './texts';
import { randomToken } from './init';
import { TOKEN_RE } from './initconfig';
import { BootstrapToken } from './state';

const FLAGS = {
  kubeconfig: 'string',
  ttl: 'string',
  'print-join-command': 'bool',
  'certificate-key': 'string',
  description: 'string',
  usages: 'list',
  groups: 'list',
  config: 'string',
  v: 'string',
  'dry-run': 'bool',
  'skip-headers': 'bool',
  output: 'string',
} as const;

export async function token(argv: string[]): Promise<number> {
  const e = hostEnv();
  const [sub, ...rest] = argv;
  const p = parseFlags(rest, FLAGS, { v: 'v', o: 'output' });
  const kcFile = str(p, 'kubeconfig') ?? '/etc/kubernetes/admin.conf';
  if (sub === 'create') {
    if (str(p, 'certificate-key') && !bool(p, 'print-join-command'))
      throw new ExitError('cannot use --certificate-key without --print-join-command');
    const ttl = parseDuration(str(p, 'ttl') ?? '24h0m0s');
    if (Number.isNaN(ttl))
      throw new ExitError(
        `invalid argument "${str(p, 'ttl')}" for "--ttl" flag: time: invalid duration "${str(p, 'ttl')}"`,
        1,
      );
    const tok = p.args[0] ?? randomToken();
    if (!TOKEN_RE.test(tok))
      throw new ExitError(`the bootstrap token "${tok}" was not of the form "\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z"`);
    const kc = loadKubeconfigFile(kcFile);
    const [id, secret] = tok.split('.');
    const body: BootstrapToken = {
      id,
      secret,
      expires: ttl ? Date.now() + ttl : null,
      usages: list(p, 'usages').length ? list(p, 'usages') : ['signing', 'authentication'],
      description: str(p, 'description') ?? '',
      groups: list(p, 'groups').length ? list(p, 'groups') : ['system:bootstrappers:kubeadm:default-node-token'],
    };
    try {
      const r = await call(kc, 'POST', '/api/v1/namespaces/kube-system/secrets', body);
      if (r.status !== 201) throw new Error(`the server returned ${r.status}`);
    } catch (err) {
      throw new ExitError(
        `failed to create or update bootstrap token with name bootstrap-token-${id}: unable to create Secret: ${urlError('POST', kc.server, '/api/v1/namespaces/kube-system/secrets', err)}`,
      );
    }
    if (!bool(p, 'print-join-command')) process.stdout.write(tok + '\n');
    else
      process.stdout.write(
        joinCommandOneLine(e.minor, hostPort(kc.server), tok, caCertHash(kc.caPem), str(p, 'certificate-key')) + '\n',
      );
    return 0;
  }
  if (sub === 'list') {
    const kc = loadKubeconfigFile(kcFile);
    let items: BootstrapToken[];
    try {
      items = ((await call(kc, 'GET', '/api/v1/namespaces/kube-system/secrets')).body as { items: BootstrapToken[] })
        .items;
    } catch (err) {
      throw new ExitError(
        `failed to list bootstrap tokens: ${urlError('GET', kc.server, '/api/v1/namespaces/kube-system/secrets', err)}`,
      );
    }
    const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
    for (const t of items) {
      const left = t.expires === null ? -1 : t.expires - Date.now();
      if (t.expires !== null && left <= 0) continue;
      rows.push([
        `${t.id}.${t.secret}`,
        left < 0 ? '<forever>' : formatDuration(left).replace(/\d+s$/, '').replace(/m$/, 'm') || '<1m',
        t.expires === null ? '<never>' : new Date(t.expires).toISOString().replace(/\.\d+Z$/, 'Z'),
        t.usages.join(','),
        t.description || '<none>',
        t.groups.join(','),
      ]);
    }
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows)
      process.stdout.write(r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i] + 3) : c)).join('') + '\n');
    return 0;
  }
  if (sub === 'delete') {
    // kubeadm cmd/kubeadm/app/cmd/token.go, RunDeleteTokens: a token ID or a whole token per argument.
    if (!p.args.length)
      throw new ExitError(
        'missing argument; \'token delete\' is missing token of form "[a-z0-9]{6}" or "[a-z0-9]{6}\\.[a-z0-9]{16}"',
      );
    const kc = loadKubeconfigFile(kcFile);
    for (const arg of p.args) {
      const m = /^([a-z0-9]{6})(?:\.[a-z0-9]{16})?$/.exec(arg);
      if (!m) throw new ExitError(`given token didn't match pattern "[a-z0-9]{6}" or "[a-z0-9]{6}\\.[a-z0-9]{16}"`);
      const name = `bootstrap-token-${m[1]}`;
      let status: number;
      try {
        status = (await call(kc, 'DELETE', `/api/v1/namespaces/kube-system/secrets/${name}`)).status;
      } catch (err) {
        throw new ExitError(
          `failed to delete bootstrap token with name "${name}": ${urlError('DELETE', kc.server, `/api/v1/namespaces/kube-system/secrets/${name}`, err)}`,
        );
      }
      if (status === 404)
        throw new ExitError(`failed to delete bootstrap token with name "${name}": secrets "${name}" not found`);
      process.stdout.write(`bootstrap token "${m[1]}" deleted\n`);
    }
    return 0;
  }
  if (sub === 'generate') {
    process.stdout.write(randomToken() + '\n');
    return 0;
  }
  throw new ExitError(
    sub
      ? `unknown command "${sub}" for "kubeadm token"`
      : 'missing subcommand; "token" is not meant to be run on its own',
  );
}
