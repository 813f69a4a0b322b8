// The session pool with a fake opener (no SSH): reuse, the lease and per-host bounds, waiting and
// its abort, idle close, retiring lost connections, keying by key and known_hosts, closeAll.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SshError } from '../../src/ssh/errors';
import { parseKnownHosts } from '../../src/ssh/known-hosts';
import { SessionPool, type SessionOpener, type SessionPoolOptions } from '../../src/ssh/pool';
import type { HostSession, RunResult, SshTarget } from '../../src/ssh/types';

class FakeSession implements HostSession {
  readonly isRoot = true;
  usable = true;
  closed = false;
  /** What the next run() throws, as a real session would. */
  failWith: Error | undefined;
  constructor(
    readonly target: SshTarget,
    readonly n: number,
  ) {}
  async run(): Promise<RunResult> {
    if (this.failWith) throw this.failWith;
    return { exitCode: 0, stdout: `connection ${this.n}`, stderr: '', truncated: false };
  }
  async readFile(): Promise<Buffer> {
    return Buffer.from('');
  }
  async writeFile(): Promise<void> {
    /* nothing to write to */
  }
  async close(): Promise<void> {
    this.closed = true;
    this.usable = false;
  }
}

function fakePool(opts: Omit<SessionPoolOptions, 'open'> = {}, open?: SessionOpener) {
  const opened: FakeSession[] = [];
  const pool = new SessionPool({
    ...opts,
    open:
      open ??
      (async (t) => {
        const s = new FakeSession(t, opened.length);
        opened.push(s);
        return s;
      }),
  });
  return { pool, opened };
}

/** One try, its error as it is: the pool's own behaviour, without waits. */
const ONE_TRY = { budgetMs: 0, firstDelayMs: 0, maxDelayMs: 0 };
const QUICK_RETRY = { budgetMs: 200, firstDelayMs: 10, maxDelayMs: 40 };

const hostKey = (seed: string) => Buffer.from(`host key ${seed}`).toString('base64');

function target(over: Partial<SshTarget> & { knownHostsText?: string } = {}): SshTarget {
  const { knownHostsText, ...rest } = over;
  const host = rest.host ?? '10.0.0.1';
  return {
    name: host === '10.0.0.1' ? 'cp1' : 'w1',
    host,
    port: 22,
    user: 'kha',
    privateKey: Buffer.from('private key A'),
    knownHostsFile: '/kha/known_hosts',
    knownHosts: parseKnownHosts(knownHostsText ?? `${host} ssh-ed25519 ${hostKey('A')}\n`),
    hostKeyPolicy: 'strict',
    forwardAgent: false,
    ...rest,
  };
}

/** True when `p` settled within a few event-loop turns. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await sleep(5);
  return done;
}

describe('session pool', () => {
  it('hands the same connection to sequential and concurrent leases', async () => {
    const { pool, opened } = fakePool();
    const first = await pool.lease(target());
    assert.equal((await first.run('true')).stdout, 'connection 0');
    await first.close();
    assert.equal(opened[0].closed, false, 'close() of a lease keeps the connection');
    const [a, b] = await Promise.all([pool.lease(target()), pool.lease(target())]);
    assert.equal((await a.run('true')).stdout, 'connection 0');
    assert.equal((await b.run('true')).stdout, 'connection 0');
    assert.equal(opened.length, 1);
    await pool.closeAll();
  });

  it('opens a second connection only when the first is at its lease bound', async () => {
    const { pool, opened } = fakePool({ leasesPerConnection: 2 });
    const a = await pool.lease(target());
    await pool.lease(target());
    assert.equal(opened.length, 1);
    const c = await pool.lease(target());
    assert.equal(opened.length, 2);
    assert.equal((await c.run('true')).stdout, 'connection 1');
    await a.close();
    assert.equal((await (await pool.lease(target())).run('true')).stdout, 'connection 0', 'the freed lease is reused');
    assert.equal(opened.length, 2);
    await pool.closeAll();
  });

  it('makes the next caller wait at the per-host bound, and an abort while waiting rejects naming the host', async () => {
    const { pool, opened } = fakePool({ leasesPerConnection: 1, connectionsPerHost: 2 });
    const a = await pool.lease(target());
    await pool.lease(target());
    const waiting = pool.lease(target());
    assert.equal(await settled(waiting), false, 'a third connection is past the bound');
    assert.equal(
      (await (await pool.lease(target({ host: '10.0.0.2' }))).run('true')).stdout,
      'connection 2',
      'another host is not held up',
    );
    await a.close();
    assert.equal(
      (await (await waiting).run('true')).stdout,
      'connection 0',
      'the freed connection goes to the waiting caller',
    );

    const ac = new AbortController();
    const aborted = pool.lease(target(), { signal: ac.signal });
    assert.equal(await settled(aborted), false);
    ac.abort();
    await assert.rejects(
      aborted,
      (e: unknown) =>
        e instanceof SshError &&
        e.kind === 'aborted' &&
        /^host cp1 \(10\.0\.0\.1:22\): waiting for one of the 2 SSH connections/.test(e.message),
    );
    assert.equal(opened.length, 3);
    await pool.closeAll();
  });

  it('closes a connection nobody leases after the idle timeout, and not while it is leased again', async () => {
    const { pool, opened } = fakePool({ idleMs: 100 });
    await (await pool.lease(target())).close();
    await sleep(20);
    const again = await pool.lease(target());
    assert.equal((await again.run('true')).stdout, 'connection 0');
    await sleep(150);
    assert.equal(opened[0].closed, false, 'leased again within the timeout');
    await again.close();
    await sleep(50);
    assert.equal(opened[0].closed, false);
    await sleep(150);
    assert.equal(opened[0].closed, true, 'closed 100 ms after the last lease was handed back');
    await (await pool.lease(target())).close();
    assert.equal(opened.length, 2, 'the next lease opens a new connection');
    await pool.closeAll();
  });

  it('keeps at most maxIdle unleased connections across hosts, closing the longest idle first', async () => {
    const { pool, opened } = fakePool({ maxIdle: 2 });
    const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
    for (const host of hosts) await (await pool.lease(target({ host }))).close();
    await sleep(5);
    assert.deepEqual(
      opened.map((s) => s.closed),
      [true, true, false, false],
      'the two visited last stay open',
    );
    // A lease takes a connection out of the idle set: the first control plane, leased again, is not the one closed.
    const cp = await pool.lease(target({ host: '10.0.0.3' }));
    await (await pool.lease(target({ host: '10.0.0.5' }))).close();
    await (await pool.lease(target({ host: '10.0.0.6' }))).close();
    await sleep(5);
    assert.equal(opened[2].closed, false, 'leased: never closed as idle');
    assert.equal(opened[3].closed, true);
    await cp.close();
    await pool.closeAll();
  });

  it('never hands out a lost connection again', async () => {
    const { pool, opened } = fakePool();
    await (await pool.lease(target())).close();
    opened[0].usable = false; // e.g. a keepalive timeout while nobody leased it
    assert.equal((await (await pool.lease(target())).run('true')).stdout, 'connection 1');
    assert.equal(opened[0].closed, true);
    await pool.closeAll();
  });

  it('retires a connection whose command failed with connection-lost, closing it once its other leases are back', async () => {
    const { pool, opened } = fakePool();
    const [a, b] = await Promise.all([pool.lease(target()), pool.lease(target())]);
    opened[0].failWith = new SshError('aborted', target(), 'command aborted by caller');
    await assert.rejects(a.run('sleep 1'), /aborted by caller/);
    opened[0].failWith = undefined;
    const c = await pool.lease(target());
    assert.equal((await c.run('true')).stdout, 'connection 0', 'an aborted command keeps the connection');
    await c.close();
    opened[0].failWith = new SshError('connection-lost', target(), 'connection lost while a command was running');
    await assert.rejects(a.run('sleep 1'), (e: unknown) => e instanceof SshError && e.kind === 'connection-lost');
    assert.equal(
      (await (await pool.lease(target())).run('true')).stdout,
      'connection 1',
      'the retry gets a fresh connection',
    );
    await a.close();
    assert.equal(opened[0].closed, false, 'b still uses it');
    await b.close();
    assert.equal(opened[0].closed, true);
    await pool.closeAll();
  });

  it('discard() closes the connection; a lease used after close() names the host', async () => {
    const { pool, opened } = fakePool();
    const a = await pool.lease(target());
    await a.discard();
    assert.equal(opened[0].closed, true);
    await assert.rejects(a.run('true'), /^Error: host cp1 \(10\.0\.0\.1:22\): SSH session used after close\(\)/);
    await (await pool.lease(target())).close();
    assert.equal(opened.length, 2);
    await pool.closeAll();
  });

  it("keys connections by private key, this host's known_hosts entries, policy and jump host", async () => {
    const { pool, opened } = fakePool({ connectionsPerHost: 8 });
    const n = async (t: SshTarget) => {
      const lease = await pool.lease(t);
      try {
        return Number((await lease.run('true')).stdout.split(' ')[1]);
      } finally {
        await lease.close();
      }
    };
    const base = await n(target());
    assert.equal(await n(target({ privateKey: Buffer.from('private key B') })), 1);
    assert.equal(
      await n(target({ knownHostsText: `10.0.0.1 ssh-ed25519 ${hostKey('rebuilt')}\n` })),
      2,
      'a changed host key is verified on a new connection',
    );
    assert.equal(await n(target({ hostKeyPolicy: 'accept-new' })), 3);
    assert.equal(await n(target({ jump: target({ host: '10.0.0.9', name: 'jump host 10.0.0.9' }) })), 4);
    assert.equal(
      await n(
        target({ knownHostsText: `10.0.0.1 ssh-ed25519 ${hostKey('A')}\n10.0.0.7 ssh-ed25519 ${hostKey('other')}\n` }),
      ),
      base,
      'a line for another host changes nothing this host is checked against',
    );
    assert.equal(opened.length, 5);
    await pool.closeAll();
  });

  it('at the per-host bound, retires an unleased connection of another key to make room', async () => {
    const { pool, opened } = fakePool({ connectionsPerHost: 1 });
    await (await pool.lease(target())).close();
    await (await pool.lease(target({ user: 'root' }))).close();
    assert.deepEqual(
      opened.map((s) => [s.target.user, s.closed]),
      [
        ['kha', true],
        ['root', false],
      ],
    );
    await pool.closeAll();
  });

  it('gives every caller the connect error, gives up a connect nobody waits for, and tries again on the next lease', async () => {
    let attempts = 0;
    const signals: AbortSignal[] = [];
    const { pool } = fakePool({ connectRetry: ONE_TRY }, (t, o) => {
      attempts++;
      signals.push(o.signal!);
      if (attempts === 1) return Promise.reject(new SshError('unreachable', t, 'cannot connect (ECONNREFUSED)'));
      return new Promise((_, reject) =>
        o.signal!.addEventListener('abort', () => reject(new SshError('aborted', t, 'connect aborted'))),
      );
    });
    const results = await Promise.allSettled([pool.lease(target()), pool.lease(target())]);
    assert.deepEqual(
      results.map((r) => r.status === 'rejected' && /ECONNREFUSED/.test(String(r.reason))),
      [true, true],
    );
    assert.equal(attempts, 1, 'both waited for the same connect');
    const ac = new AbortController();
    const p = pool.lease(target(), { signal: ac.signal });
    await sleep(5);
    ac.abort();
    await assert.rejects(p, /^SshError: host cp1 \(10\.0\.0\.1:22\): SSH connect aborted/);
    assert.equal(signals[1].aborted, true, 'the connect itself was given up');
    await pool.closeAll();
  });

  it('tries a connect nobody answers again with backoff, then gives every caller a final error naming the tries', async () => {
    const at: number[] = [];
    const t0 = Date.now();
    const { pool } = fakePool({ connectRetry: QUICK_RETRY }, (t) => {
      at.push(Date.now() - t0);
      return Promise.reject(new SshError('unreachable', t, 'cannot connect (ECONNREFUSED)'));
    });
    const results = await Promise.allSettled([pool.lease(target()), pool.lease(target())]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason as SshError;
      assert.ok(err instanceof SshError);
      assert.equal(err.kind, 'unreachable');
      assert.equal(err.retryable, false, 'final: Temporal does not try it again');
      assert.match(
        err.message,
        /^host cp1 \(10\.0\.0\.1:22\): cannot connect \(ECONNREFUSED\); gave up after \d+ tries in \d+ s$/,
      );
    }
    // Waits of 10, 20, 40, 40 ... ms: tries at about 0, 10, 30, 70, 110, 150; none starts past the 200 ms budget.
    assert.ok(at.length >= 4 && at.length <= 7, `tries at ${at.join(', ')} ms`);
    for (let i = 2; i < at.length; i++) assert.ok(at[i] - at[i - 1] >= 9, `backoff between tries: ${at.join(', ')} ms`);
    // A try starts only while its wait ends within the budget; a loaded machine's timers may fire late.
    const late = 100;
    assert.ok(at[at.length - 1] - at[0] < QUICK_RETRY.budgetMs + late, `no try after the budget: ${at.join(', ')} ms`);
    await pool.closeAll();
  });

  it('a host that answers again within the budget is connected; what the host refuses is not tried again', async () => {
    let tries = 0;
    const healing = fakePool({ connectRetry: QUICK_RETRY }, async (t) => {
      if (++tries < 3) throw new SshError('handshake-timeout', t, 'timed out during connect/handshake');
      return new FakeSession(t, tries);
    });
    const lease = await healing.pool.lease(target());
    assert.equal(tries, 3);
    await lease.close();
    await healing.pool.closeAll();

    let refused = 0;
    const auth = fakePool({ connectRetry: QUICK_RETRY }, (t) => {
      refused++;
      return Promise.reject(new SshError('auth-failed', t, 'public-key authentication failed for user kha'));
    });
    await assert.rejects(auth.pool.lease(target()), (e: unknown) => e instanceof SshError && e.kind === 'auth-failed');
    assert.equal(refused, 1);
    await auth.pool.closeAll();
  });

  it('an abort while waiting to try again ends the connect at once, and no try follows', async () => {
    let tries = 0;
    const { pool } = fakePool({ connectRetry: { budgetMs: 60_000, firstDelayMs: 30_000, maxDelayMs: 30_000 } }, (t) => {
      tries++;
      return Promise.reject(new SshError('unreachable', t, 'cannot connect (EHOSTUNREACH)'));
    });
    const ac = new AbortController();
    const p = pool.lease(target(), { signal: ac.signal });
    await sleep(20);
    const t0 = Date.now();
    ac.abort();
    await assert.rejects(p, /host cp1 \(10\.0\.0\.1:22\): SSH connect aborted/);
    assert.ok(Date.now() - t0 < 1000);
    await pool.closeAll();
    assert.equal(tries, 1, 'no try after the abort');
  });

  it('closeAll closes every connection, leased or not, and the pool opens new ones afterwards', async () => {
    const { pool, opened } = fakePool();
    const held = await pool.lease(target());
    await (await pool.lease(target({ host: '10.0.0.2' }))).close();
    await pool.closeAll();
    assert.deepEqual(
      opened.map((s) => s.closed),
      [true, true],
    );
    assert.equal(held.usable, false);
    await held.close();
    assert.equal((await (await pool.lease(target())).run('true')).stdout, 'connection 2');
    await pool.closeAll();
  });
});
