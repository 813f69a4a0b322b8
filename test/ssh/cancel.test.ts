// Cancellation must really kill the remote process group (OpenSSH 9.2 ignores signal() for root
// and after EOF, and closing a non-pty channel leaves the command running).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSshd, type Sshd } from '../helpers/sshd';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import type { HostSession } from '../../src/ssh/types';
import { SshError } from '../../src/ssh/errors';
import { killCommand } from '../../src/ssh/shell';

let d: Sshd;
const SECRET = 'abcdef.0123456789abcdef';
let marker = 41000 + Math.floor(Math.random() * 1000);
const open = async (user: string): Promise<HostSession> =>
  openSession(
    await loadTarget(
      { name: 'node1', address: d.host, port: d.port },
      { user, privateKeyFile: d.keyFile, knownHostsFile: d.knownHostsFile },
    ),
  );

/** Live (non-zombie) processes "sleep N", with their user; also lists wrapper shells holding N. */
async function alive(s: HostSession, n: number, all = false): Promise<string> {
  const filter = all ? `index($0, "${n}") && !/ps -eo/` : `$3 == "sleep" && $4 == "${n}"`;
  const r = await s.run(`ps -eo stat=,user=,args= | awk '$1 !~ /^Z/ && ${filter}'`, { sudo: false });
  return r.stdout.trim();
}

async function listPidfiles(s: HostSession, sudo: boolean): Promise<string[]> {
  // Root's pidfiles are in /run/kubeadm-ha, another user's in their home (src/ssh/shell.ts).
  const r = await s.run('ls /run/kubeadm-ha "$HOME/.kubeadm-ha/run" 2>/dev/null | grep "^kha-run-" || true', {
    sudo,
  });
  return r.stdout.split('\n').filter(Boolean);
}

function isAborted(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof SshError, String(e));
    assert.equal(e.kind, 'aborted');
    assert.match(e.message, re);
    return true;
  };
}

before(async () => {
  d = await startSshd();
});
after(async () => {
  await d.stop();
});

const cases = [
  { who: 'root', sudo: true, owner: 'root' },
  { who: 'khatest', sudo: true, owner: 'root' },
  { who: 'khatest', sudo: false, owner: 'khatest' },
] as const;

for (const c of cases) {
  describe(`cancel as ${c.who}${c.sudo ? '' : ' (no sudo)'}`, () => {
    let s: HostSession;
    before(async () => {
      s = await open(c.who);
    });
    after(async () => {
      await s.close();
    });

    it('abort kills the remote command and all its children', async () => {
      const n = ++marker;
      const ac = new AbortController();
      // A compound command: a shell with a child, plus a background grandchild.
      const pidfilesBefore = await listPidfiles(s, c.sudo);
      const p = s.run(`sleep ${n} & sleep ${n}; echo never`, { signal: ac.signal, sudo: c.sudo, stdin: `${SECRET}\n` });
      await new Promise((r) => setTimeout(r, 700));
      const before = await alive(s, n);
      assert.equal(before.split('\n').length, 2, `expected two sleeps, got:\n${before}`);
      assert.ok(
        before.split('\n').every((l) => l.split(/\s+/)[1] === c.owner),
        before,
      );
      const t0 = Date.now();
      ac.abort();
      await assert.rejects(p, isAborted(/aborted by caller; its remote process group was killed/));
      await p.catch((e: Error) => assert.ok(!e.message.includes(SECRET) && !e.message.includes('sleep'), e.message));
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(await alive(s, n, true), ''); // wrapper shells and sudo are gone too
      const leftover = (await listPidfiles(s, c.sudo)).filter((f) => !pidfilesBefore.includes(f));
      assert.equal(leftover.length, 1, leftover.join()); // only the listing command's own pidfile
    });

    it('timeoutMs has the same effect', async () => {
      const n = ++marker;
      await assert.rejects(s.run(`sleep ${n}`, { timeoutMs: 500, sudo: c.sudo }), isAborted(/timed out after 500 ms/));
      assert.equal(await alive(s, n), '');
    });
  });
}

describe('cancel before start', () => {
  let s: HostSession;
  before(async () => {
    s = await open('khatest');
  });
  after(async () => {
    await s.close();
  });

  it('an already-aborted signal rejects without running anything', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      s.run('touch /tmp/kha-should-not-exist', { signal: ac.signal }),
      isAborted(/before the command started/),
    );
    const r = await s.run('test -e /tmp/kha-should-not-exist; echo $?', { sudo: false });
    assert.equal(r.stdout.trim(), '1');
  });

  it('a run queued behind 8 busy channels can be aborted while waiting', async () => {
    const n = ++marker;
    const busy = new AbortController();
    const running = Array.from({ length: 8 }, () =>
      s.run(`sleep ${n}`, { signal: busy.signal }).catch((e: unknown) => e),
    );
    await new Promise((r) => setTimeout(r, 300));
    const queued = new AbortController();
    const p = s.run('echo queued', { signal: queued.signal });
    setTimeout(() => queued.abort(), 100);
    await assert.rejects(p, isAborted(/before the command started/));
    busy.abort();
    const errs = await Promise.all(running);
    assert.ok(errs.every((e) => e instanceof SshError && e.kind === 'aborted'));
    assert.equal(await alive(s, n), '');
  });
});

describe('the abort helper kills only what its own pidfile names', () => {
  let s: HostSession;
  before(async () => {
    s = await open('khatest');
  });
  after(async () => {
    await s.close();
  });

  it('refuses a pidfile naming process group 1 or less, a symlinked one, and says nothing ran for a missing one', async () => {
    const dir = '"$HOME/.kubeadm-ha/run"';
    const sh = (cmd: string) => s.run(cmd, { sudo: false });
    await sh(`mkdir -p ${dir} && echo 1 > ${dir}/kha-run-aa.pid && echo 0 > ${dir}/kha-run-bb.pid`);
    await sh(`echo 12345 > /tmp/kha-planted && ln -sf /tmp/kha-planted ${dir}/kha-run-cc.pid`);
    assert.equal((await sh(killCommand('kha-run-aa', false))).exitCode, 4, 'group 1: every process');
    assert.equal((await sh(killCommand('kha-run-bb', false))).exitCode, 4);
    assert.equal((await sh(killCommand('kha-run-cc', false))).exitCode, 4, 'a symlink is not our pidfile');
    assert.equal((await sh(killCommand('kha-run-dd', false))).exitCode, 3);
    assert.throws(() => killCommand('../../tmp/x', false), /not a pidfile name/);
    await sh(`rm -f ${dir}/kha-run-aa.pid ${dir}/kha-run-bb.pid ${dir}/kha-run-cc.pid /tmp/kha-planted`);
  });
});
