// The session pool against a real OpenSSH sshd, through withSessions as the activities use it:
// sequential activities share one TCP connection (one sshd login), and once the server drops it,
// idle or mid-command, the next activity logs in afresh.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import type { Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { type Remote, withSessions } from '../../src/activities/host-context';
import type { SshSpec } from '../../src/config/types';
import { SessionPool, useSessionPool } from '../../src/ssh/pool';
import { startSshd, type Sshd } from '../helpers/sshd';

let d: Sshd;
const pool = new SessionPool();
let replaced: SessionPool;
before(async () => {
  d = await startSshd();
  replaced = useSessionPool(pool);
});
after(async () => {
  useSessionPool(replaced);
  await pool.closeAll();
  await d.stop();
});

const quiet: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const logins = () => (d.log().match(/Accepted publickey for root/g) ?? []).length;

/** One activity on the host, as the worker runs it. */
function activity<T>(fn: (cp: Remote) => Promise<T>): Promise<T> {
  const ssh: SshSpec = {
    user: 'root',
    privateKeyFile: d.keyFile,
    knownHostsFile: d.knownHostsFile,
    port: d.port,
    hostKeyPolicy: 'strict',
    forwardAgent: false,
  };
  return new MockActivityEnvironment(undefined, { logger: quiet }).run(() =>
    withSessions(ssh, [{ name: 'cp1', address: d.host, port: d.port }], fn),
  );
}

const echo = (word: string) => activity(async (cp) => (await cp.run(`echo ${word}`)).stdout);

/** SIGKILLs the sshd processes below our listener, as a network cut would; returns how many connections that was. */
function dropConnections(): number {
  const listener = readFileSync(join(d.dir, 'sshd.pid'), 'utf8').trim();
  const sshdsBy = new Map<string, string[]>();
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    } // exited meanwhile
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'sshd') continue;
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    sshdsBy.set(ppid, [...(sshdsBy.get(ppid) ?? []), pid]);
  }
  const victims: string[] = [];
  const walk = (pid: string) => {
    for (const c of sshdsBy.get(pid) ?? []) {
      victims.push(c);
      walk(c);
    }
  };
  walk(listener);
  for (const pid of victims) process.kill(Number(pid), 'SIGKILL');
  return sshdsBy.get(listener)?.length ?? 0; // one [priv] monitor per connection
}

describe('session pool on a real sshd', { timeout: 60_000 }, () => {
  it('sequential activities share one login; a connection dropped while idle is replaced', async () => {
    const before = logins();
    assert.equal(await echo('one'), 'one\n');
    assert.equal(await echo('two'), 'two\n');
    assert.equal(logins() - before, 1, 'one TCP connection for both activities');
    assert.equal(dropConnections(), 1, 'one connection to drop');
    await sleep(200); // the FIN reaches the pooled client
    assert.equal(await echo('three'), 'three\n');
    assert.equal(logins() - before, 2, 'a new login after the drop');
  });

  it('a connection dropped mid-command fails that activity retryably, and the retry logs in afresh', async () => {
    await echo('warm');
    const before = logins();
    const failure = await activity(async (cp) => {
      const running = cp.run('sleep 30');
      await sleep(500);
      assert.equal(dropConnections(), 1);
      return running;
    }).then(
      () => assert.fail('the command survived the dropped connection'),
      (e: unknown) => e,
    );
    assert.ok(failure instanceof ApplicationFailure, String(failure));
    assert.equal(failure.type, 'SshUnavailable');
    assert.equal(failure.nonRetryable, false);
    assert.match(failure.message, /^host cp1 \(.*\): connection lost while a command was running/);
    assert.equal(logins(), before, 'the failed activity used the pooled connection');
    assert.equal(await echo('retry'), 'retry\n');
    assert.equal(logins() - before, 1, 'the retry connected afresh');
  });
});
