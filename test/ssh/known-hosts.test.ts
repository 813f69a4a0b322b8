// known_hosts parsing and lookup, with synthetic keys.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fingerprint,
  hostKeyVerifier,
  keyTypeOf,
  knownHostsLine,
  parseKnownHosts,
  recordHostKey,
} from '../../src/ssh/known-hosts';

// Wire-format ed25519 public key blobs: string "ssh-ed25519" + 32-byte key.
const blob = () =>
  Buffer.concat([
    Buffer.from('0000000b', 'hex'),
    Buffer.from('ssh-ed25519'),
    Buffer.from('00000020', 'hex'),
    randomBytes(32),
  ]);
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
    assert.deepEqual(e[0], { hosts: 'cp1,10.0.0.1', keyType: 'ssh-ed25519', key: K1, line: 3 });
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
    const e = parseKnownHosts(
      `cp1 ssh-ed25519 ${b64(K1)}\n@revoked * ssh-ed25519 ${b64(K1)}\ncp1 ssh-ed25519 ${b64(K2)}`,
    );
    const v = hostKeyVerifier(e, 'cp1', 22);
    assert.deepEqual([v.verify(K1), v.verify(K2)], [false, true]);
  });

  it('unknown host: known=false and nothing verifies', () => {
    const v = hostKeyVerifier(parseKnownHosts(`cp1 ssh-ed25519 ${b64(K1)}`), 'cp9', 22);
    assert.deepEqual([v.known, v.keyTypes, v.verify(K1)], [false, [], false]);
  });

  it('matches host names case-insensitively, as ssh(1) lower-cases them: hashed, plain and [host]:port', () => {
    const e = parseKnownHosts(
      [
        `${hashed('w1.example.com')} ssh-ed25519 ${b64(K1)}`,
        `${hashed('[w2.example.com]:2222')} ssh-ed25519 ${b64(K2)}`,
        `Cp3.Example.Com,[CP4.example.com]:2200 ssh-ed25519 ${b64(K1)}`,
      ].join('\n'),
    );
    assert.equal(hostKeyVerifier(e, 'W1.Example.COM', 22).verify(K1), true);
    assert.equal(hostKeyVerifier(e, 'W2.EXAMPLE.com', 2222).verify(K2), true);
    assert.equal(hostKeyVerifier(e, 'cp3.example.com', 22).verify(K1), true);
    assert.equal(hostKeyVerifier(e, 'cp4.EXAMPLE.com', 2200).verify(K1), true);
    assert.equal(hostKeyVerifier(e, 'W1.Example.COM', 2222).known, false);
  });

  it('a hashed entry written by ssh-keygen -H for a lower-case name matches a mixed-case one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kha-kh-'));
    try {
      const f = join(dir, 'known_hosts');
      writeFileSync(f, `w1.example.com ssh-ed25519 ${b64(K1)}\n[w1.example.com]:2222 ssh-ed25519 ${b64(K2)}\n`);
      execFileSync('ssh-keygen', ['-q', '-H', '-f', f], { stdio: 'pipe' });
      const e = parseKnownHosts(readFileSync(f, 'utf8'));
      assert.ok(e.every((x) => x.hosts.startsWith('|1|')));
      assert.equal(hostKeyVerifier(e, 'W1.Example.COM', 22).verify(K1), true);
      assert.equal(hostKeyVerifier(e, 'W1.EXAMPLE.COM', 2222).verify(K2), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fingerprints like ssh-keygen -l (SHA256:base64, no padding)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kha-kh-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')], { stdio: 'pipe' });
      const pub = readFileSync(join(dir, 'k.pub'), 'utf8').split(' ');
      const key = Buffer.from(pub[1], 'base64');
      const want = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'k.pub')])
        .toString()
        .split(' ')[1];
      assert.equal(fingerprint(key), want);
      assert.equal(keyTypeOf(key), 'ssh-ed25519');
      // A line we write is read back by ssh-keygen -F (hashed: OpenSSH's own HMAC check).
      const f = join(dir, 'known_hosts');
      writeFileSync(f, `${knownHostsLine('[w9.example.com]:2222', key, true)}\n`);
      assert.match(execFileSync('ssh-keygen', ['-F', '[w9.example.com]:2222', '-f', f]).toString(), /ssh-ed25519/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recordHostKey (accept-new): appends once under a lock, keeps the mode and the style, refuses a change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kha-kh-'));
    try {
      const f = join(dir, 'known_hosts');
      writeFileSync(f, `cp1 ssh-ed25519 ${b64(K1)}`); // no trailing newline
      chmodSync(f, 0o640);
      // Ten parallel connects to the same new host: exactly one line.
      const rs = await Promise.all(Array.from({ length: 10 }, () => recordHostKey(f, 'W1.Example.COM', 2222, K2)));
      assert.equal(rs.filter((r) => r.outcome === 'added').length, 1);
      assert.ok(rs.every((r) => r.outcome === 'added' || r.outcome === 'known'));
      assert.equal(
        readFileSync(f, 'utf8'),
        `cp1 ssh-ed25519 ${b64(K1)}\n[w1.example.com]:2222 ssh-ed25519 ${b64(K2)}\n`,
      );
      assert.equal(statSync(f).mode & 0o777, 0o640);
      const changed = await recordHostKey(f, 'w1.example.com', 2222, K1);
      assert.equal(changed.outcome, 'changed');
      assert.deepEqual(changed.outcome === 'changed' ? changed.entries.map((x) => x.line) : [], [2]);
      // A file of hashed entries gets a hashed line; a missing file is created 0600.
      const h = join(dir, 'known_hosts_hashed');
      writeFileSync(h, `${hashed('cp1')} ssh-ed25519 ${b64(K1)}\n`);
      await recordHostKey(h, 'cp2', 22, K2);
      const lines = readFileSync(h, 'utf8').trim().split('\n');
      assert.match(lines[1], /^\|1\|[^ ]+ ssh-ed25519 /);
      assert.equal(hostKeyVerifier(parseKnownHosts(lines.join('\n')), 'CP2', 22).verify(K2), true);
      const n = join(dir, 'new_known_hosts');
      await recordHostKey(n, 'cp3', 22, K1);
      assert.equal(statSync(n).mode & 0o777, 0o600);
      assert.equal(readFileSync(n, 'utf8'), `cp3 ssh-ed25519 ${b64(K1)}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
