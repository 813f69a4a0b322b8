// The Temporal connection as Temporal's own tools read it (profile, then TEMPORAL_* variables, then
// flags), its files checked before any dial, and each TLS failure named from a real handshake
// against a local HTTP/2 server with mTLS (certificates from scripts/test-certs.sh).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openConnection } from '../../src/client/connect';
import { temporalTarget } from '../../src/client/connection';
import { startDevServer } from '../helpers/temporal';
import { unreachableReason } from '../../src/client/reach';

const ROOT = resolve(__dirname, '../../..');

describe('the Temporal connection settings', () => {
  let dir: string;
  const pem = (f: string) => join(dir, f);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kha-conn-'));
    execFileSync('bash', [join(ROOT, 'scripts/test-certs.sh'), dir]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the profile of temporal.toml, then the TEMPORAL_* variables, then the flags', () => {
    const toml = join(dir, 'temporal.toml');
    writeFileSync(
      toml,
      [
        '[profile.default]',
        'address = "default.example:7233"',
        '[profile.prod]',
        'address = "prod.example:7233"',
        'namespace = "prod-ns"',
        '[profile.prod.tls]',
        `client_cert_path = "${pem('client.pem')}"`,
        `client_key_path = "${pem('client.key')}"`,
        `server_ca_cert_path = "${pem('ca.pem')}"`,
        'server_name = "localhost"',
      ].join('\n'),
    );
    const env = { TEMPORAL_CONFIG_FILE: toml };
    assert.equal(temporalTarget({}, env).address, 'default.example:7233');
    const prod = temporalTarget({}, { ...env, TEMPORAL_PROFILE: 'prod' });
    assert.equal(prod.address, 'prod.example:7233');
    assert.equal(prod.namespace, 'prod-ns');
    assert.match(prod.auth, /^mTLS \(client certificate .*client\.pem, subject CN=kubeadm-ha-client\)$/);
    const tls = prod.connect.tls as { serverNameOverride?: string; clientCertPair?: unknown };
    assert.equal(tls.serverNameOverride, 'localhost');
    assert.ok(tls.clientCertPair);
    const overridden = temporalTarget(
      { profile: 'prod', namespace: 'flag-ns' },
      { ...env, TEMPORAL_ADDRESS: 'env.example:7233', TEMPORAL_NAMESPACE: 'env-ns' },
    );
    assert.equal(overridden.address, 'env.example:7233', 'the variable overrides the profile');
    assert.equal(overridden.namespace, 'flag-ns', 'the flag overrides the variable');
    assert.equal(temporalTarget({ 'config-file': toml, address: 'flag.example:1' }, {}).address, 'flag.example:1');
    const plain = temporalTarget({}, {});
    assert.deepEqual(plain.connect, { address: 'localhost:7233' });
    assert.equal(plain.auth, 'plaintext');
    assert.throws(
      () => temporalTarget({ profile: 'staging' }, env),
      /profile "staging" is not in .*temporal\.toml \(--profile\)/,
    );
    writeFileSync(join(dir, 'bad.toml'), '[profile.default\naddress = 1');
    assert.throws(() => temporalTarget({}, { TEMPORAL_CONFIG_FILE: join(dir, 'bad.toml') }), /bad\.toml: /);
  });

  it('refuses an expired certificate, a key that is not its pair, half a pair and a missing file, naming each', () => {
    const flags = (cert: string, key: string) => ({ 'tls-cert-path': pem(cert), 'tls-key-path': pem(key) });
    assert.throws(
      () => temporalTarget(flags('expired-client.pem', 'expired-client.key'), {}),
      /client certificate \(--tls-cert-path, TEMPORAL_TLS_CLIENT_CERT_PATH\) .*expired-client\.pem: the certificate expired on 2020-01-02T00:00:00\.000Z/,
    );
    assert.throws(
      () => temporalTarget(flags('client.pem', 'wrong-ca-client.key'), {}),
      /wrong-ca-client\.key is not the key of .*client\.pem; pass the pair/,
    );
    assert.throws(
      () => temporalTarget({ 'tls-cert-path': pem('client.pem') }, {}),
      /mTLS needs both a client certificate and its key; only the certificate is set/,
    );
    assert.throws(
      () => temporalTarget({}, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('nope.pem') }),
      /server CA .*nope\.pem: cannot read it \(ENOENT\)/,
    );
  });

  it('takes an API key from a private file (never argv) and turns TLS on with it', () => {
    const keyFile = join(dir, 'api-key');
    writeFileSync(keyFile, 'secret-key\n', { mode: 0o644 });
    chmodSync(keyFile, 0o644);
    assert.throws(() => temporalTarget({ 'api-key-file': keyFile }, {}), /readable by group or others.*chmod 600/);
    chmodSync(keyFile, 0o600);
    const t = temporalTarget({ 'api-key-file': keyFile }, {});
    assert.equal(t.connect.apiKey, 'secret-key');
    assert.deepEqual(t.connect.tls, {});
    assert.equal(t.auth, 'API key');
    assert.equal(temporalTarget({}, { TEMPORAL_API_KEY: 'from-env' }).connect.apiKey, 'from-env');
  });

  describe('a TLS handshake that fails is named', () => {
    let mtls: http2.Http2SecureServer;
    let plain: http2.Http2Server;
    let tlsAddress: string;
    let plainAddress: string;
    before(async () => {
      const { readFileSync } = await import('node:fs');
      mtls = http2.createSecureServer({
        key: readFileSync(pem('server.key')),
        cert: readFileSync(pem('server.pem')),
        ca: readFileSync(pem('ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      });
      plain = http2.createServer();
      await new Promise<void>((r) => mtls.listen(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
      tlsAddress = `localhost:${(mtls.address() as AddressInfo).port}`;
      plainAddress = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
    });
    after(() => {
      mtls?.close();
      plain?.close();
    });
    const probe = (address: string, flags: Parameters<typeof temporalTarget>[0]) =>
      unreachableReason(address, 3000, temporalTarget({ address, ...flags }, {}).connect.tls);
    const withPair = (cert: string, key: string, extra: Record<string, string> = {}) => ({
      'tls-ca-path': pem('ca.pem'),
      'tls-cert-path': pem(cert),
      'tls-key-path': pem(key),
      ...extra,
    });

    it('answers with the right pair', async () => {
      assert.equal(await probe(tlsAddress, withPair('client.pem', 'client.key')), undefined);
    });
    it('no client certificate', async () => {
      assert.match(
        (await probe(tlsAddress, { 'tls-ca-path': pem('ca.pem') })) ?? '',
        /the server requires a client certificate \(mTLS\); set --tls-cert-path and --tls-key-path/,
      );
    });
    it('a client certificate of another CA', async () => {
      assert.match(
        (await probe(tlsAddress, withPair('wrong-ca-client.pem', 'wrong-ca-client.key'))) ?? '',
        // Node's TLS server closes without an alert; Go's (Temporal's) sends one: both name the refusal.
        /refused the client certificate/,
      );
    });
    it('a server name the certificate does not carry', async () => {
      assert.match(
        (await probe(tlsAddress, withPair('client.pem', 'client.key', { 'tls-server-name': 'temporal.example' }))) ??
          '',
        /the server's certificate is not for "temporal\.example" .*set --tls-server-name/,
      );
    });
    it("a server CA this side does not trust (the system's)", async () => {
      assert.match(
        (await probe(tlsAddress, { tls: true })) ?? '',
        /the server's certificate is not signed by a CA this side trusts .*--tls-ca-path/,
      );
    });
    it('TLS to a plaintext frontend, and plaintext to a TLS one', async () => {
      assert.match((await probe(plainAddress, { tls: true })) ?? '', /the server does not speak TLS there/);
      assert.match((await probe(tlsAddress, {})) ?? '', /set --tls or the TLS settings/);
    });
  });

  it('names a namespace the server does not have, within seconds (a real dev server)', async () => {
    const env = await startDevServer();
    try {
      const t0 = Date.now();
      await assert.rejects(
        openConnection(temporalTarget({ address: env.address, namespace: 'nope' }, {})),
        /namespace "nope" does not exist on .*; create it \(temporal operator namespace create nope\) or set --namespace/,
      );
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      const c = await openConnection(temporalTarget({ address: env.address }, {}));
      await c.close();
    } finally {
      await env.teardown();
    }
  });
});
