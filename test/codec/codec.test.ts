// The payload codec, its keys and the codec server, without a Temporal server.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { chmodSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { main } from '../../src/client/cli';
import { keygen } from '../../src/client/keygen';
import { createCodecServer, fromJsonPayload, toJsonPayload } from '../../src/codec/codec-server';
import { EncryptionCodec, isEncrypted } from '../../src/codec/encryption-codec';
import { firstRefused } from '../../src/shared/refused-payload';
import { CodecKeys, CodecKeyError, codecNotice, loadCodecKeys, loadKeyFile, newKeyLine } from '../../src/codec/keys';

const dir = mkdtempSync(join(tmpdir(), 'kha-codec-'));
const keyFile = (name: string, text: string, mode = 0o600) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
};
const line = (id: string) => `${id} ${newKeyLine().split(' ')[1]}`;
const value = { spec: { name: 'prod-eu1', token: 'abcdef.0123456789abcdef' } };
const text = (b?: Uint8Array | null) => Buffer.from(b ?? []).toString('utf8');

describe('encryption codec', () => {
  const keys = loadKeyFile(keyFile('one.key', `${line('k1')}\n`));

  it('encrypts the whole payload (metadata too) and decrypts it back', async () => {
    const codec = new EncryptionCodec(keys);
    const plain = defaultPayloadConverter.toPayload(value);
    const [enc] = await codec.encode([plain]);
    assert.equal(text(enc.metadata?.encoding), 'binary/encrypted');
    assert.equal(text(enc.metadata?.['encryption-key-id']), 'k1');
    assert.deepEqual(Object.keys(enc.metadata ?? {}).sort(), ['encoding', 'encryption-key-id']);
    assert.ok(!text(enc.data).includes('prod-eu1') && !text(enc.data).includes('json/plain'));
    assert.equal(
      enc.data!.length,
      12 + temporal.api.common.v1.Payload.encode(plain).finish().length + 16,
      'iv | ciphertext of the serialized Payload | tag',
    );
    const [dec] = await codec.decode([enc]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(dec), value);
    assert.equal(text(dec.metadata?.encoding), 'json/plain');
    const [again] = await codec.encode([plain]);
    assert.notDeepEqual(Buffer.from(again.data!), Buffer.from(enc.data!), 'a fresh IV each time');
  });

  it('rotates: the first key encrypts, every key decrypts', async () => {
    const old = new EncryptionCodec(keys);
    const [byOld] = await old.encode([defaultPayloadConverter.toPayload(value)]);
    const k1 = readFileSync(keyFile('one.key', readFileSync(join(dir, 'one.key'), 'utf8')), 'utf8');
    const rotated = new EncryptionCodec(loadKeyFile(keyFile('two.key', `${line('k2')}\n${k1}`)));
    const [byNew] = await rotated.encode([defaultPayloadConverter.toPayload(value)]);
    assert.equal(text(byNew.metadata?.['encryption-key-id']), 'k2');
    assert.deepEqual(
      defaultPayloadConverter.fromPayload((await rotated.decode([byOld]))[0]),
      value,
      'the old key still decrypts',
    );
    await assert.rejects(
      old.decode([byNew]),
      /cannot decrypt: payload encrypted with key id k2, which this worker\/CLI does not have; set KUBEADM_HA_CODEC_KEY_FILE/,
    );
  });

  it('with a key, refuses what is not encrypted with it: the CLI throws, the worker marks, the codec server shows plain', async () => {
    const codec = new EncryptionCodec(keys);
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
    const data = Buffer.from(enc.data!);
    data[20] ^= 1;
    const altered = { ...enc, data };
    await assert.rejects(
      codec.decode([altered]),
      /cannot decrypt: payload encrypted with key id k1 failed authentication/,
    );
    const plain: Payload = defaultPayloadConverter.toPayload(value);
    assert.equal(isEncrypted(plain), false);
    await assert.rejects(
      new EncryptionCodec(keys, 'this CLI').decode([plain]),
      /refused a payload that is not encrypted: with a payload key set, this CLI reads only payloads encrypted with its keys/,
    );

    const [foreign] = await new EncryptionCodec(loadKeyFile(keyFile('k7.key', `${line('k7')}\n`))).encode([plain]);
    const worker = new EncryptionCodec(keys, 'this worker', 'mark');
    const marked = (await worker.decode([plain, altered, foreign, enc])).map((p) =>
      defaultPayloadConverter.fromPayload(p),
    );
    assert.deepEqual(
      marked.slice(0, 3).map((m) => firstRefused([m])?.reason),
      ['plain', 'unauthenticated', 'unknown-key'],
    );
    assert.match(firstRefused([marked[0]])!.message, /this worker reads only payloads encrypted with its keys/);
    assert.deepEqual(marked[3], value, 'what is encrypted with the key is read');
    assert.equal(firstRefused([marked[3]]), undefined);

    const server = new EncryptionCodec(keys, 'this codec server', 'show');
    assert.deepEqual(await server.decode([plain]), [plain], 'the codec server only displays');
    await assert.rejects(server.decode([altered]), /failed authentication/);
  });

  it('without a key: encodes nothing, refuses encrypted payloads by key id, and says so', async () => {
    const none: CodecKeys = loadCodecKeys({});
    const [enc] = await new EncryptionCodec(keys).encode([defaultPayloadConverter.toPayload(value)]);
    const codec = new EncryptionCodec(none, 'this CLI');
    const plain = defaultPayloadConverter.toPayload(value);
    assert.deepEqual(await codec.encode([plain]), [plain]);
    await assert.rejects(codec.decode([enc]), /payload encrypted with key id k1, which this CLI does not have/);
    assert.match(
      codecNotice(none),
      /payload encryption is OFF: no key configured \(set KUBEADM_HA_CODEC_KEY_FILE or KUBEADM_HA_CODEC_KEY/,
    );
    assert.match(codecNotice(keys), /payloads encrypted with key "k1" \(1 key\(s\) from key file/);
  });
});

describe('codec keys', () => {
  it('reads KUBEADM_HA_CODEC_KEY as <id>:<base64>, and refuses both variables at once', () => {
    const [id, b64] = line('env-1').split(' ');
    const k = loadCodecKeys({ KUBEADM_HA_CODEC_KEY: `${id}:${b64}` });
    assert.equal(k.encryptKeyId, 'env-1');
    assert.equal(k.keys.get('env-1')!.length, 32);
    assert.throws(() => loadCodecKeys({ KUBEADM_HA_CODEC_KEY: b64 }), /must be "<key-id>:<base64 key>"/);
    assert.throws(
      () => loadCodecKeys({ KUBEADM_HA_CODEC_KEY: `${id}:${b64}`, KUBEADM_HA_CODEC_KEY_FILE: '/x' }),
      /set only one/,
    );
  });

  it('refuses a key file others can read, naming chmod 600', () => {
    const p = keyFile('open.key', `${line('k1')}\n`, 0o644);
    assert.throws(
      () => loadCodecKeys({ KUBEADM_HA_CODEC_KEY_FILE: p }),
      (e: unknown) =>
        e instanceof CodecKeyError &&
        e.message.includes('readable by group or others (mode 644)') &&
        e.message.includes(`chmod 600 ${p}`),
    );
    assert.throws(() => loadKeyFile(keyFile('group.key', `${line('k1')}\n`, 0o640)), /chmod 600/);
  });

  it('refuses bad lines with file:line, short keys, duplicate ids, empty and missing files', () => {
    assert.throws(
      () => loadKeyFile(keyFile('f1.key', 'k1\n')),
      /f1\.key:1: expected "<key-id> <base64 key>", got 1 field/,
    );
    assert.throws(
      () => loadKeyFile(keyFile('f2.key', `# comment\n\nk1 ${Buffer.alloc(16).toString('base64')}\n`)),
      /f2\.key:3: key "k1" must be the base64 of 32 random bytes \(got 16 bytes\)/,
    );
    assert.throws(
      () => loadKeyFile(keyFile('f3.key', `${line('k1')}\n${line('k1')}\n`)),
      /f3\.key:2: key id "k1" appears twice/,
    );
    assert.throws(() => loadKeyFile(keyFile('f4.key', `${line('bad/id')}\n`)), /key id "bad\/id" must be/);
    assert.throws(() => loadKeyFile(keyFile('f5.key', '# nothing\n')), /has no key; add one with: kubeadm-ha keygen/);
    assert.throws(() => loadKeyFile(join(dir, 'absent.key')), /cannot read the key file \(ENOENT\)/);
  });

  it('keygen --rotate never writes through a file or symlink planted beside the key file', () => {
    const path = join(dir, 'planted.key');
    keygen(path, false);
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'do not touch\n');
    symlinkSync(victim, `${path}.new`);
    keygen(path, true);
    assert.equal(readFileSync(victim, 'utf8'), 'do not touch\n');
    assert.equal(loadKeyFile(path).keys.size, 2);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('keygen makes a 600 key file, and --rotate puts a new key first', () => {
    const p = join(dir, 'made.key');
    assert.match(keygen(p, false), /created .*made\.key \(mode 600\)/);
    const first = loadKeyFile(p).encryptKeyId!;
    assert.match(keygen(p, false), /exists/);
    assert.match(keygen(p, true), /new payloads use key ".+"; the 1 older key\(s\) still decrypt/);
    const k = loadKeyFile(p);
    assert.equal(k.keys.size, 2);
    assert.notEqual(k.encryptKeyId, first);
    assert.ok(k.keys.has(first));
    assert.match(newKeyLine(), /^k\d{8}-[0-9a-f]{6} [A-Za-z0-9+/]{43}=$/);
  });

  it('the CLI prints a key line, and refuses a codec server without keys', async () => {
    const out: string[] = [];
    assert.equal(await main(['keygen'], (s) => out.push(s)), 0);
    assert.match(out[0], /^k\d{8}-[0-9a-f]{6} [A-Za-z0-9+/]{43}=$/);
    await assert.rejects(
      main(['keygen', '--rotate'], () => undefined),
      /--rotate needs --file PATH/,
    );
    const saved = { ...process.env };
    delete process.env.KUBEADM_HA_CODEC_KEY_FILE;
    delete process.env.KUBEADM_HA_CODEC_KEY;
    try {
      await assert.rejects(
        main(['codec-server', '--port', '0'], () => undefined),
        /the codec server needs the payload keys: set KUBEADM_HA_CODEC_KEY_FILE/,
      );
    } finally {
      Object.assign(process.env, saved);
    }
  });
});

describe('codec server', () => {
  const keys = loadKeyFile(keyFile('server.key', `${line('k1')}\n`));
  const server = createCodecServer({
    codec: new EncryptionCodec(keys),
    origins: ['http://localhost:8233'],
    token: 's3cret',
  });
  let url = '';
  before(
    () =>
      new Promise<void>((res) =>
        server.listen(0, '127.0.0.1', () => {
          url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          res();
        }),
      ),
  );
  after(() => new Promise<void>((res) => server.close(() => res())));
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: {
        'Content-Type': 'application/json',
        Origin: 'http://localhost:8233',
        'X-Namespace': 'default',
        Authorization: 'Bearer s3cret',
        ...headers,
      },
    });

  it('answers the preflight for the UI origin only, with X-Namespace allowed', async () => {
    const r = await fetch(`${url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:8233',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace',
      },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://localhost:8233');
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
    assert.match(r.headers.get('access-control-allow-methods') ?? '', /POST/);
    const other = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('encodes and decodes {payloads} as the Web UI sends them', async () => {
    const plain = toJsonPayload(defaultPayloadConverter.toPayload(value));
    const enc = await post('/encode', { payloads: [plain] });
    assert.equal(enc.status, 200);
    assert.equal(enc.headers.get('access-control-allow-origin'), 'http://localhost:8233');
    const { payloads } = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(payloads[0].metadata.encoding, 'base64').toString(), 'binary/encrypted');
    const dec = await post('/decode', { payloads });
    const back = ((await dec.json()) as { payloads: typeof payloads }).payloads;
    assert.deepEqual(defaultPayloadConverter.fromPayload(fromJsonPayload(back[0])), value);
  });

  it('requires the token, and reports what it cannot decode', async () => {
    assert.equal((await post('/decode', { payloads: [] }, { Authorization: 'Bearer nope' })).status, 401);
    assert.equal((await post('/decode', { payloads: [] }, { Authorization: '' })).status, 401);
    assert.equal((await post('/decode', { nothing: 1 })).status, 400);
    const foreign = await new EncryptionCodec(loadKeyFile(keyFile('other.key', `${line('k9')}\n`))).encode([
      defaultPayloadConverter.toPayload(value),
    ]);
    const r = await post('/decode', { payloads: foreign.map(toJsonPayload) });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { message: string }).message, /key id k9/);
    assert.equal((await fetch(`${url}/other`, { method: 'POST' })).status, 404);
  });

  it('refuses a request from an origin it does not allow, before the codec sees it', async () => {
    const r = await post(
      '/encode',
      { payloads: [toJsonPayload(defaultPayloadConverter.toPayload(value))] },
      { Origin: 'http://evil.example' },
    );
    assert.equal(r.status, 403);
    assert.match(((await r.json()) as { message: string }).message, /origin http:\/\/evil\.example is not allowed/);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });

  it('on loopback, answers only to its own host names (DNS rebinding)', async () => {
    const port = Number(new URL(url).port);
    const withHost = (host: string) =>
      new Promise<number>((res, rej) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/decode',
            method: 'POST',
            headers: { Host: host, Authorization: 'Bearer s3cret' },
          },
          (r) => {
            r.resume();
            res(r.statusCode ?? 0);
          },
        );
        req.on('error', rej);
        req.end(JSON.stringify({ payloads: [] }));
      });
    assert.equal(await withHost(`rebind.evil.example:${port}`), 421);
    assert.equal(await withHost(`localhost:${port + 1}`), 421);
    assert.equal(await withHost(`localhost:${port}`), 200);
    assert.equal(await withHost(`127.0.0.1:${port}`), 200);
  });

  it('the CLI refuses to listen beyond loopback without a token, and a token file others can read', async (t) => {
    const saved = process.env.KUBEADM_HA_CODEC_KEY_FILE;
    process.env.KUBEADM_HA_CODEC_KEY_FILE = keyFile('cli.key', `${line('k2')}\n`);
    t.after(() => {
      if (saved === undefined) delete process.env.KUBEADM_HA_CODEC_KEY_FILE;
      else process.env.KUBEADM_HA_CODEC_KEY_FILE = saved;
    });
    await assert.rejects(
      main(['codec-server', '--port', '0', '--listen', '0.0.0.0'], () => undefined),
      /--listen 0\.0\.0\.0 reaches beyond this machine.*add --token-file PATH/,
    );
    const open = keyFile('token-open', 's3cret\n', 0o644);
    await assert.rejects(
      main(['codec-server', '--port', '0', '--token-file', open], () => undefined),
      /--token-file .*token-open is readable by group or others \(mode 644\); run: chmod 600/,
    );
  });
});
