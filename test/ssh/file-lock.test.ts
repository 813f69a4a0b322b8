// The known_hosts lock (src/ssh/file-lock.ts): contenders that all find a stale lock take it over
// one at a time and never remove a lock another has just made, in one process (the cross-process
// lock alone, without the in-process queue) and in separate processes appending to known_hosts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { lockFile } from '../../src/ssh/file-lock';
import { hostKeyVerifier, parseKnownHosts } from '../../src/ssh/known-hosts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kha-lock-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A lock file left by a process that died a minute ago. */
function staleLock(path: string): void {
  writeFileSync(path, '4242 gone-host 0123\n');
  const then = new Date(Date.now() - 60_000);
  utimesSync(path, then, then);
}

describe('file lock', () => {
  it('contenders that all find a stale lock: one holder at a time, and each holder keeps its own lock file', async () => {
    const dir = tempDir();
    const lock = join(dir, 'known_hosts.lock');
    for (let round = 0; round < 25; round++) {
      staleLock(lock);
      let holders = 0;
      let most = 0;
      const problems: string[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async (_, n) => {
          // Staggered, so one contender's look at the stale lock falls between another's takeover and its new lock.
          for (let i = n % 4; i > 0; i--) await new Promise((r) => setImmediate(r));
          const release = await lockFile(lock, { pollMs: 1, maxPolls: 5000 });
          most = Math.max(most, ++holders);
          const mine = await readFile(lock, 'utf8');
          const ino = (await stat(lock)).ino;
          // Give the other contenders every chance to take it (they all judged the lock stale).
          for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
          const now = await readFile(lock, 'utf8').catch(() => 'removed');
          if (now !== mine || (await stat(lock).catch(() => undefined))?.ino !== ino)
            problems.push(`round ${round}: contender ${n}'s lock was ${now === 'removed' ? 'removed' : 'replaced'}`);
          holders--;
          await release();
        }),
      );
      assert.deepEqual(problems, []);
      assert.equal(most, 1, `round ${round}: ${most} holders at once`);
      assert.deepEqual(readdirSync(dir), [], 'no lock, takeover or moved-aside file is left');
    }
  });

  it('a fresh lock is never taken: the contender waits, then says which lock to check', async () => {
    const lock = join(tempDir(), 'known_hosts.lock');
    writeFileSync(lock, '1 other-host abc\n');
    await assert.rejects(lockFile(lock, { pollMs: 1, maxPolls: 20 }), /known_hosts\.lock is held for too long/);
    assert.equal(readFileSync(lock, 'utf8'), '1 other-host abc\n');
  });

  it('an owner whose lock was taken over after it went stale does not remove the new owner’s lock', async () => {
    const lock = join(tempDir(), 'known_hosts.lock');
    const release = await lockFile(lock);
    writeFileSync(lock, '2 other-host def\n'); // what a takeover and a new owner's O_EXCL create leave
    await release();
    assert.equal(readFileSync(lock, 'utf8'), '2 other-host def\n');
    await assert.rejects(lockFile(lock, { maxPolls: 0 }), /held for too long/);
  });

  it('separate processes recording the same hosts past a stale lock append exactly one line per host', async () => {
    const dir = tempDir();
    const file = join(dir, 'known_hosts');
    writeFileSync(file, '');
    staleLock(`${file}.lock`);
    const hosts = ['cp1', 'cp2', 'cp3', 'w1'];
    const keys = Object.fromEntries(
      hosts.map((h) => [
        h,
        Buffer.concat([
          Buffer.from('0000000b', 'hex'),
          Buffer.from('ssh-ed25519'),
          Buffer.from('00000020', 'hex'),
          randomBytes(32),
        ]).toString('base64'),
      ]),
    );
    const module = require.resolve('../../src/ssh/known-hosts');
    const script = `
      const { recordHostKey } = require(${JSON.stringify(module)});
      const [file, startAt, keys] = [process.argv[1], Number(process.argv[2]), JSON.parse(process.argv[3])];
      (async () => {
        while (Date.now() < startAt) {}
        const names = Object.keys(keys).sort(() => Math.random() - 0.5);
        const out = await Promise.all(names.map(async (h) => [h, (await recordHostKey(file, h, 22, Buffer.from(keys[h], 'base64'))).outcome]));
        process.stdout.write(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const startAt = Date.now() + 1500;
    const results = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<[string, string][]>((resolve, reject) => {
            const child = spawn(process.execPath, ['-e', script, file, String(startAt), JSON.stringify(keys)]);
            let out = '';
            let err = '';
            child.stdout.on('data', (d) => (out += d));
            child.stderr.on('data', (d) => (err += d));
            child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
          }),
      ),
    );
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, hosts.length, lines.join('\n'));
    const entries = parseKnownHosts(lines.join('\n'));
    for (const h of hosts) {
      assert.equal(entries.filter((e) => e.hosts === h).length, 1, `one line for ${h}`);
      assert.ok(hostKeyVerifier(entries, h, 22).verify(Buffer.from(keys[h], 'base64')));
      const added = results.flat().filter(([name, outcome]) => name === h && outcome === 'added');
      assert.equal(added.length, 1, `${h} added by exactly one process`);
    }
    assert.deepEqual(readdirSync(dir), ['known_hosts'], 'the stale lock is gone and no lock is left');
  });
});
