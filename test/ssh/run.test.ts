// run(): exit codes, stderr, stdin, sudo and root, signals, truncation, sudo failure, concurrency.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSshd, type Sshd } from '../helpers/sshd';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import type { HostSession } from '../../src/ssh/types';
import { SshError } from '../../src/ssh/errors';
import { connectClient } from '../../src/ssh/connect';

let d: Sshd;
const open = async (user: string): Promise<HostSession> =>
  openSession(
    await loadTarget(
      { name: 'node1', address: d.host, port: d.port },
      { user, privateKeyFile: d.keyFile, knownHostsFile: d.knownHostsFile },
    ),
  );

before(async () => {
  d = await startSshd();
});
after(async () => {
  await d.stop();
});

for (const who of ['root', 'khatest'] as const) {
  describe(`run as ${who}`, () => {
    let s: HostSession;
    before(async () => {
      s = await open(who);
    });
    after(async () => {
      await s.close();
    });

    it('reports isRoot', () => {
      assert.equal(s.isRoot, who === 'root');
    });

    it('returns non-zero exit codes with stdout and stderr', async () => {
      const r = await s.run('echo out; echo "err text" >&2; exit 3');
      assert.deepEqual(r, { exitCode: 3, stdout: 'out\n', stderr: 'err text\n', truncated: false });
    });

    it('runs privileged by default (sudo -n for non-root)', async () => {
      const r = await s.run('id -u');
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout.trim(), '0');
    });

    it('runs as the login user with sudo:false', async () => {
      const r = await s.run('id -un', { sudo: false });
      assert.equal(r.stdout.trim(), who);
    });

    it('delivers stdin without putting it in argv', async () => {
      const token = 'abcdef.0123456789abcdef';
      const r = await s.run('IFS= read -r T; ps -eo args | grep -c "[a]bcdef.0123" || true; printf "got:%s\\n" "$T"', {
        stdin: `${token}\n`,
      });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, `0\ngot:${token}\n`);
    });

    it('sends EOF when no stdin is given, so stdin readers finish', async () => {
      const r = await s.run('cat; echo done', { timeoutMs: 10_000 });
      assert.equal(r.stdout, 'done\n');
    });

    it('reports a command killed by a signal', async () => {
      const r = await s.run('kill -KILL $$');
      assert.equal(r.exitCode, null);
      assert.match(r.signal ?? '', /KILL/);
    });

    it('caps captured output and flags truncation, streaming every chunk', async () => {
      let streamed = 0;
      const r = await s.run('head -c 300000 /dev/zero | tr "\\0" x', {
        maxBytes: 1000,
        onOutput: (_n, c) => {
          streamed += c.length;
        },
      });
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout.length, 1000);
      assert.equal(r.truncated, true);
      assert.equal(streamed, 300000);
    });

    it('runs 20 concurrent commands on one connection (MaxSessions 10)', async () => {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => s.run(`sleep 0.2; echo ${i}`)));
      assert.deepEqual(
        rs.map((r) => r.stdout.trim()),
        Array.from({ length: 20 }, (_, i) => String(i)),
      );
      assert.ok(rs.every((r) => r.exitCode === 0));
    });

    it('leaves no pidfiles behind', async () => {
      const list = async () =>
        (await s.run('ls /run/kubeadm-ha | grep "^kha-run-" || true')).stdout.split('\n').filter(Boolean);
      const before = await list();
      await Promise.all([s.run('true'), s.run('exit 4'), s.run('echo x >&2')]);
      const leftover = (await list()).filter((f) => !before.includes(f));
      assert.equal(leftover.length, 1, leftover.join()); // only the listing command's own pidfile
    });
  });
}

describe('MaxSessions', () => {
  it('the sshd really refuses >10 concurrent channels without the semaphore', async () => {
    const t = await loadTarget(
      { name: 'node1', address: d.host, port: d.port },
      { user: 'root', privateKeyFile: d.keyFile, knownHostsFile: d.knownHostsFile },
    );
    const c = await connectClient(t);
    const one = () =>
      new Promise<string>((resolve) => {
        c.exec('sleep 0.5', (err, st) => {
          if (err) return resolve(err.message);
          st.resume();
          st.stderr.resume();
          st.on('close', () => resolve('ok'));
        });
      });
    const results = await Promise.all(Array.from({ length: 12 }, one));
    c.end();
    assert.equal(results.filter((r) => r === 'ok').length, 10);
    assert.ok(
      results.some((r) => /open failed/.test(r)),
      results.join(),
    );
  });
});

describe('sudo failure', () => {
  it('rejects with non-retryable sudo-failed when the user has no sudo rights', async () => {
    const s = await open(d.noSudoUser);
    try {
      const plain = await s.run('id -un', { sudo: false });
      assert.equal(plain.stdout.trim(), d.noSudoUser);
      await assert.rejects(s.run('id -u'), (e: unknown) => {
        assert.ok(e instanceof SshError);
        assert.equal(e.kind, 'sudo-failed');
        assert.equal(e.retryable, false);
        assert.match(e.message, /host node1 .*khanosudo.*sudo/);
        return true;
      });
    } finally {
      await s.close();
    }
  });
});
