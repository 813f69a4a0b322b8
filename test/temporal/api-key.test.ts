// API keys against a real Temporal: the server built here in API-key mode (scripts/temporal-prod.sh
// with TEMPORAL_PROD_JWKS_URL), which takes JWTs signed by a key of that JWKS with Temporal's
// default claim mapper and authorizer (docs.temporal.io/self-hosted-guide/security: "permissions":
// ["<namespace>:<role>"]), behind mTLS. A key it accepts connects; one signed by another key, or none,
// is refused within seconds with the cause named.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openConnection } from '../../src/client/connect';
import { temporalTarget } from '../../src/client/connection';

const ROOT = resolve(__dirname, '../../..');
const run = promisify(execFile);
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An RS256 JWT as Temporal's default claim mapper reads it. */
function jwt(key: KeyObject, kid: string, permissions: string[]): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify({ sub: 'kubeadm-ha-test', permissions, iat: now, exp: now + 3600 }));
  return `${head}.${body}.${b64url(sign('RSA-SHA256', Buffer.from(`${head}.${body}`), key))}`;
}

describe('API keys on the Temporal built here', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kha-api-key-'));
  const trusted = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let jwks: Server;
  let env: Record<string, string> = {};
  before(async () => {
    const key = { ...trusted.publicKey.export({ format: 'jwk' }), kid: 'test', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [key] })));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    const admin = join(dir, 'admin-key');
    writeFileSync(admin, jwt(trusted.privateKey, 'test', ['temporal-system:admin', 'default:admin']), { mode: 0o600 });
    await run('bash', [join(ROOT, 'scripts/temporal-prod.sh'), 'start', join(dir, 'rig')], {
      env: {
        ...process.env,
        TEMPORAL_PROD_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
        TEMPORAL_PROD_ADMIN_API_KEY_FILE: admin,
      },
      maxBuffer: 16 << 20,
    });
    env = Object.fromEntries(
      readFileSync(join(dir, 'rig', 'env'), 'utf8')
        .split('\n')
        .map((l) => /^export ([A-Z_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[1].startsWith('TEMPORAL_') && !m[1].includes('PROD'))
        .map((m) => [m[1], m[2]]),
    );
  });
  after(async () => {
    await run('bash', [join(ROOT, 'scripts/temporal-prod.sh'), 'stop', join(dir, 'rig')]).catch(() => undefined);
    jwks?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = (apiKey?: string) =>
    openConnection(
      temporalTarget({ 'config-file': '/dev/null' }, { ...env, ...(apiKey ? { TEMPORAL_API_KEY: apiKey } : {}) }),
    );

  it('connects with a key the server trusts, over mTLS', async () => {
    // The SDK's first call (GetSystemInfo) is cluster-scoped: the default authorizer wants a system role for it.
    const c = await connect(jwt(trusted.privateKey, 'test', ['temporal-system:read', 'default:write']));
    await c.close();
  });

  it('names a key signed by another issuer, and a missing key, within seconds', async () => {
    for (const key of [jwt(other.privateKey, 'test', ['temporal-system:read', 'default:write']), undefined]) {
      const t0 = Date.now();
      await assert.rejects(
        connect(key),
        /refused the credentials \((API key and )?mTLS .*\): Request unauthorized\.; check the API key \(--api-key-file, TEMPORAL_API_KEY\)/,
      );
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    }
  });
});
