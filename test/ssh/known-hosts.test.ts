// known_hosts parsing and lookup, with synthetic keys.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { hostKeyVerifier, parseKnownHosts } from '../../src/ssh/known-hosts';

// Wire-format ed25519 public key blobs: string "ssh-ed25519" + 32-byte key.
const blob = () => Buffer.concat([Buffer.from('0000000b', 'hex'), Buffer.from('ssh-ed25519'), Buffer.from('00000020', 'hex'), randomBytes(32)]);
const K1 = blob();
const K2 = blob();
const b64 = (k: Buffer) => k.toString('base64');

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('parses plain, comma-listed and hashed entries; skips comments and markers', () => {
    const text = [
      '# comment',
      '',
      `cp1,10.0.0.1 ssh-ed25519 ${b64(K1)} comment here`,
      `${hashed('[127.0.10.1]:2222')} ssh-ed25519 ${b64(K2)}`,
      `@cert-authority *.example.com ssh-ed25519 ${b64(K2)}`,
      'garbage-line',
    ].join('\n');
    const e = parseKnownHosts(text);
    assert.equal(e.length, 2);
    assert.deepEqual(e[0], { hosts: 'cp1,10.0.0.1', keyType: 'ssh-ed25519', key: K1 });
    assert.equal(hostKeyVerifier(e, '10.0.0.1', 22).verify(K1), true);
    const v = hostKeyVerifier(e, '127.0.10.1', 2222);
    assert.deepEqual([v.known, v.keyTypes, v.verify(K2), v.verify(K1)], [true, ['ssh-ed25519'], true, false]);
  });

  it('uses [host]:port for non-22 ports and the bare host for 22', () => {
    const e = parseKnownHosts(`[cp1]:2222 ssh-ed25519 ${b64(K1)}\ncp2 ssh-ed25519 ${b64(K2)}`);
    assert.equal(hostKeyVerifier(e, 'cp1', 2222).known, true);
    assert.equal(hostKeyVerifier(e, 'cp1', 22).known, false);
    assert.equal(hostKeyVerifier(e, 'cp2', 22).known, true);
    assert.equal(hostKeyVerifier(e, 'cp2', 2222).known, false);
  });

  it('supports wildcards and negation', () => {
    const e = parseKnownHosts(`*.example.com,!bad.example.com ssh-ed25519 ${b64(K1)}`);
    assert.equal(hostKeyVerifier(e, 'a.example.com', 22).verify(K1), true);
    assert.equal(hostKeyVerifier(e, 'bad.example.com', 22).known, false);
  });

  it('drops keys that are @revoked', () => {
    const e = parseKnownHosts(`cp1 ssh-ed25519 ${b64(K1)}\n@revoked * ssh-ed25519 ${b64(K1)}\ncp1 ssh-ed25519 ${b64(K2)}`);
    const v = hostKeyVerifier(e, 'cp1', 22);
    assert.deepEqual([v.verify(K1), v.verify(K2)], [false, true]);
  });

  it('unknown host: known=false and nothing verifies', () => {
    const v = hostKeyVerifier(parseKnownHosts(`cp1 ssh-ed25519 ${b64(K1)}`), 'cp9', 22);
    assert.deepEqual([v.known, v.keyTypes, v.verify(K1)], [false, [], false]);
  });
});
