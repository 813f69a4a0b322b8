// The production-like Temporal for the tests: temporal-server built from go.temporal.io/server on
// Debian's PostgreSQL, mTLS on the frontend, the Web UI server pointed at it (scripts/temporal-prod.sh).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporalTarget } from '../../src/client/connection';
import type { TemporalService } from './harness';
import { dataConverter } from './temporal';

const ROOT = resolve(__dirname, '../../..');
const run = promisify(execFile);

export class ProdServer implements TemporalService {
  readonly dir = mkdtempSync(join(tmpdir(), 'kha-prod-temporal-'));
  address = '';
  private vars: Record<string, string> = {};

  async start(): Promise<void> {
    await run('bash', [join(ROOT, 'scripts/temporal-prod.sh'), 'start', this.dir], { maxBuffer: 16 << 20 });
    this.vars = Object.fromEntries(
      readFileSync(join(this.dir, 'env'), 'utf8')
        .split('\n')
        .map((l) => /^(?:export )?([A-Z_]+)=(.*)$/.exec(l.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2].replace(/^['"]|['"]$/g, '')]),
    );
    this.address = this.vars.TEMPORAL_ADDRESS;
  }

  async stop(): Promise<void> {
    await run('bash', [join(ROOT, 'scripts/temporal-prod.sh'), 'stop', this.dir]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The TEMPORAL_* variables of its env file: address, namespace, client certificate, CA, server name. */
  connectionEnv(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.vars).filter(([k]) => k.startsWith('TEMPORAL_')));
  }

  /** The Web UI's base URL. */
  get ui(): string {
    return this.vars.TEMPORAL_UI_URL;
  }

  cliFlags(): string[] {
    const v = this.vars;
    return [
      '--address',
      v.TEMPORAL_ADDRESS,
      '--namespace',
      v.TEMPORAL_NAMESPACE ?? 'default',
      '--tls-cert-path',
      v.TEMPORAL_TLS_CLIENT_CERT_PATH,
      '--tls-key-path',
      v.TEMPORAL_TLS_CLIENT_KEY_PATH,
      '--tls-ca-path',
      v.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
      ...(v.TEMPORAL_TLS_SERVER_NAME ? ['--tls-server-name', v.TEMPORAL_TLS_SERVER_NAME] : []),
      '--config-file',
      '/dev/null',
    ];
  }

  async client(): Promise<{ client: Client; close: () => Promise<void> }> {
    const t = temporalTarget({ 'config-file': '/dev/null' }, this.connectionEnv());
    const connection = await Connection.connect(t.connect);
    return {
      client: new Client({ connection, namespace: t.namespace, dataConverter: dataConverter() }),
      close: () => connection.close(),
    };
  }
}
