// The production-like Temporal rig of scripts/temporal-prod.sh: temporal-server built from the Go
// module on Debian's PostgreSQL, mTLS on the frontend, the `default` namespace with kubeadm-ha's
// search attributes, and the Web UI's server in front of it. Asserts what a client sees: mTLS is
// really required (no certificate, a certificate of another CA, an expired one and a server-name
// mismatch all fail), the namespace and the four Keyword attributes are there, the UI lists the
// namespace, and the stores are PostgreSQL databases.
//
// Needs the binaries of scripts/build-temporal-server.sh (the start script builds them when
// missing, a few minutes) and the Temporal CLI of scripts/setup.sh. The project's root is
// KUBEADM_HA_ROOT, else found by walking up to kubeadm-ha's package.json.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

function projectRoot(): string {
  if (process.env.KUBEADM_HA_ROOT) return resolve(process.env.KUBEADM_HA_ROOT);
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kubeadm-ha')
        return dir;
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error('cannot find the kubeadm-ha checkout: set KUBEADM_HA_ROOT');
}

const ROOT = projectRoot();
const SCRIPT = join(ROOT, 'scripts/temporal-prod.sh');
const TEMPORAL_CLI = process.env.TEMPORAL_CLI_PATH ?? join(ROOT, '.tools/venv/bin/temporal');
const SEARCH_ATTRIBUTES = ['KubeadmHaCluster', 'KubeadmHaPhase', 'KubeadmHaStatus', 'KubeadmHaFailedPhase'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never throws on a non-zero exit (the result says). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** DIR/env's `export NAME=value` lines (values are %q-quoted by bash only when they need it). */
function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/\\(.)/g, '$1');
  }
  return out;
}

/** The process environment without the caller's Temporal settings, so only the flags count. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_')) delete env[k];
  return env;
}

describe('production-like Temporal (temporal-server on PostgreSQL, mTLS, Web UI)', { timeout: 15 * 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kha-temporal-prod-'));
  let env: Record<string, string> = {};
  let tls = '';

  /** The temporal CLI against the rig: TLS flags as given, nothing from the environment or config files. */
  const cli = (args: string[], tlsArgs: string[]): Promise<Run> =>
    run(
      TEMPORAL_CLI,
      [...args, '--disable-config-file', '--disable-config-env', '--address', env.TEMPORAL_ADDRESS, ...tlsArgs],
      cleanEnv(),
    );
  const withCert = (name: string, serverName = env.TEMPORAL_TLS_SERVER_NAME): string[] => [
    '--tls-cert-path',
    join(tls, `${name}.pem`),
    '--tls-key-path',
    join(tls, `${name}.key`),
    '--tls-ca-path',
    join(tls, 'ca.pem'),
    '--tls-server-name',
    serverName,
  ];

  before(async () => {
    const started = await run('bash', [SCRIPT, 'start', dir], process.env, 14 * 60_000);
    if (started.code !== 0) {
      throw new Error(`temporal-prod.sh start failed (${started.code}):\n${started.stdout}\n${started.stderr}`);
    }
    env = readEnvFile(join(dir, 'env'));
    tls = dirname(env.TEMPORAL_TLS_CLIENT_CERT_PATH);
  });

  after(async () => {
    const stopped = await run('bash', [SCRIPT, 'stop', dir], process.env, 120_000);
    if (stopped.code !== 0) console.error(`temporal-prod.sh stop: ${stopped.stdout}${stopped.stderr}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the client environment the CLI and @temporalio/envconfig read', () => {
    assert.match(env.TEMPORAL_ADDRESS, /^127\.0\.0\.1:\d+$/);
    assert.equal(env.TEMPORAL_NAMESPACE, 'default');
    assert.equal(env.TEMPORAL_TLS_SERVER_NAME, 'localhost');
    for (const k of [
      'TEMPORAL_TLS_CLIENT_CERT_PATH',
      'TEMPORAL_TLS_CLIENT_KEY_PATH',
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    ]) {
      assert.ok(existsSync(env[k]), `${k}=${env[k]}`);
    }
    assert.match(env.TEMPORAL_UI_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('describes the default namespace over mTLS, also with the environment file alone', async () => {
    const r = await cli(['operator', 'namespace', 'describe', '-n', 'default', '-o', 'json'], withCert('client'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { namespaceInfo: { name: string } }).namespaceInfo.name, 'default');
    // Only the exported variables: what a worker or a shell that sources DIR/env gets.
    const viaEnv = await run(TEMPORAL_CLI, ['operator', 'namespace', 'describe', '--disable-config-file'], {
      ...cleanEnv(),
      ...env,
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
  });

  it('has the four search attributes as Keyword', async () => {
    const r = await cli(['operator', 'search-attribute', 'list', '-n', 'default', '-o', 'json'], withCert('client'));
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout;
    for (const name of SEARCH_ATTRIBUTES) {
      // JSON: {"customAttributes": {"KubeadmHaCluster": "INDEXED_VALUE_TYPE_KEYWORD", ...}} (older CLIs print a table).
      assert.match(
        text,
        new RegExp(`"?${name}"?\\s*[:|]?\\s*"?(INDEXED_VALUE_TYPE_)?KEYWORD`, 'i'),
        `${name} in ${text}`,
      );
    }
  });

  // The CLI explains a failed handshake ("The server requires client certificates (mTLS)..."); the
  // patterns also take the bare gRPC/TLS errors, and a connection the server closed (TLS 1.3: see
  // the expired certificate's case).
  it('refuses a client that does not use TLS', async () => {
    const r = await cli(['operator', 'namespace', 'describe', '-n', 'default'], []);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /TLS|handshake|connection (closed|reset)|EOF/i);
  });

  it('refuses a client without a certificate', async () => {
    const r = await cli(
      ['operator', 'search-attribute', 'list', '-n', 'default'],
      ['--tls', '--tls-ca-path', join(tls, 'ca.pem'), '--tls-server-name', 'localhost'],
    );
    assert.notEqual(r.code, 0, r.stdout);
    assert.doesNotMatch(r.stdout, /KubeadmHaCluster/);
    assert.match(
      r.stderr,
      /client certificate|mTLS|certificate required|bad certificate|broken pipe|connection reset|EOF/i,
    );
  });

  it('refuses a client certificate of another CA', async () => {
    const r = await cli(['operator', 'search-attribute', 'list', '-n', 'default'], withCert('wrong-ca-client'));
    assert.notEqual(r.code, 0, r.stdout);
    assert.doesNotMatch(r.stdout, /KubeadmHaCluster/);
    assert.match(
      r.stderr,
      /client certificate|mTLS|unknown (certificate )?authority|bad certificate|broken pipe|connection reset|EOF/i,
    );
  });

  it('refuses an expired client certificate signed by the right CA', async () => {
    const r = await cli(['operator', 'search-attribute', 'list', '-n', 'default'], withCert('expired-client'));
    assert.notEqual(r.code, 0, r.stdout);
    // TLS 1.3: the server checks the client's certificate after the client has finished its side of
    // the handshake, so the client sees either the server's alert ("tls: expired certificate") or,
    // when its first write wins the race, the closed connection.
    assert.match(r.stderr, /expired certificate|broken pipe|connection reset|EOF/i);
  });

  it('fails when the server name does not match the server certificate', async () => {
    const r = await cli(['operator', 'namespace', 'describe', '-n', 'default'], withCert('client', 'temporal.example'));
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /temporal\.example/);
  });

  it('serves the Web UI, which lists the default namespace through the frontend', async () => {
    const res = await fetch(`${env.TEMPORAL_UI_URL}/api/v1/namespaces`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { namespaces: { namespaceInfo: { name: string } }[] };
    assert.ok(
      body.namespaces.some((n) => n.namespaceInfo.name === 'default'),
      JSON.stringify(body).slice(0, 500),
    );
    const page = await fetch(`${env.TEMPORAL_UI_URL}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  });

  it('keeps its state in PostgreSQL (the namespace row, the visibility database)', async () => {
    const psql = (db: string, sql: string) =>
      run('psql', ['-h', '127.0.0.1', '-p', env.TEMPORAL_PROD_PG_PORT, '-U', 'temporal', '-d', db, '-tAc', sql], {
        ...process.env,
        PGPASSWORD: env.TEMPORAL_PROD_PG_PASSWORD,
        PGCONNECT_TIMEOUT: '10',
      });
    const ns = await psql('temporal', 'SELECT name FROM namespaces ORDER BY name');
    assert.equal(ns.code, 0, ns.stderr);
    assert.ok(ns.stdout.split('\n').includes('default'), ns.stdout);
    const shards = await psql('temporal', 'SELECT count(*) FROM shards');
    assert.equal(shards.stdout.trim(), '4', shards.stderr);
    const vis = await psql(
      'temporal_visibility',
      "SELECT count(*) FROM information_schema.tables WHERE table_name = 'executions_visibility'",
    );
    assert.equal(vis.stdout.trim(), '1', vis.stderr);
  });
});
