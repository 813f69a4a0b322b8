// Journaled steps against a real sshd: run once, re-attach after a lost session, host lock,
// guard, cancellation, died runners and on-host redaction. Every check reads the host's state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSshd, type Sshd } from '../helpers/sshd';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import type { HostSession } from '../../src/ssh/types';
import { SshError } from '../../src/ssh/errors';
import { HOST_LOCK, JOURNAL_DIR, cancelJournaled, journalState, runJournaled } from '../../src/ssh/journal';
import { attachScript } from '../../src/ssh/journal-scripts';

let d: Sshd;
let h: HostSession; // root session for inspecting the host
const tag = `kha-jt-${randomBytes(4).toString('hex')}`;
let seq = 0;
const newId = () => `${tag}-${++seq}`;
const tmp = (name: string) => `/tmp/${tag}-${name}`;
const entry = (id: string) => `${JOURNAL_DIR}/${id}`;

const open = async (user: string, sshd: Sshd = d): Promise<HostSession> =>
  openSession(
    await loadTarget(
      { name: 'node1', address: sshd.host, port: sshd.port },
      { user, privateKeyFile: sshd.keyFile, knownHostsFile: sshd.knownHostsFile },
    ),
  );

async function sh(cmd: string): Promise<string> {
  const r = await h.run(cmd);
  assert.equal(r.exitCode, 0, `${cmd}: ${r.stderr}`);
  return r.stdout;
}

const lines = async (file: string) => Number((await sh(`cat ${file} 2>/dev/null | wc -l`)).trim());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return;
  assert.fail(`timed out waiting for ${what}`);
}

/** A process counts as gone once it has exited (a zombie here: PID 1 does not reap). */
async function gone(pid: string): Promise<boolean> {
  return (await sh(`cut -d' ' -f3 /proc/${pid}/stat 2>/dev/null || echo gone`)).trim().replace('Z', 'gone') === 'gone';
}

function isKind(kind: string, re?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof SshError, String(e));
    assert.equal(e.kind, kind);
    if (re) assert.match(e.message, re);
    return true;
  };
}

before(async () => {
  d = await startSshd();
  h = await open('root');
});
after(async () => {
  await h.run(`rm -rf ${JOURNAL_DIR}/${tag}-* /tmp/${tag}-*`);
  await h.close();
  await d.stop();
});

describe('journaled steps', () => {
  let s: HostSession;
  before(async () => {
    s = await open(d.user);
  });
  after(async () => {
    await s.close();
  });

  it('runs a command once and records it in a 0700 root journal folder', async () => {
    const id = newId();
    const streamed: string[] = [];
    const offsets: number[] = [];
    const r = await runJournaled(
      s,
      { id, command: 'echo hello; echo oops >&2; echo bye' },
      { onOutput: (c) => streamed.push(c), onOffset: (o) => offsets.push(o) },
    );
    assert.deepEqual(r, { id, state: 'finished', exitCode: 0, output: 'hello\noops\nbye\n', attached: false });
    assert.equal(streamed.join(''), r.output);
    assert.equal(offsets.at(-1), Buffer.byteLength(r.output));
    assert.equal(await sh(`stat -c '%a %U' ${JOURNAL_DIR} ${entry(id)}`), '700 root\n700 root\n');
    assert.equal(await sh(`cd ${entry(id)} && ls`), 'claim\ncmd\nfinished\nout\npid\nrc\nstarted\n');
    assert.equal(await sh(`cat ${entry(id)}/cmd ${entry(id)}/rc`), 'echo hello; echo oops >&2; echo bye\n0\n');
    assert.equal(await sh(`cat ${entry(id)}/out`), r.output);
  });

  it('returns the recorded outcome for a finished id without running it again', async () => {
    const id = newId();
    const step = { id, command: `echo run >> ${tmp('count2')}; echo ran` };
    const first = await runJournaled(s, step);
    const second = await runJournaled(s, step);
    assert.equal(first.attached, false);
    assert.deepEqual(second, { ...first, attached: true });
    assert.equal(await lines(tmp('count2')), 1);
  });

  it('runs an id once when several workers start it at the same moment', async () => {
    const id = newId();
    const step = { id, command: `echo run >> ${tmp('count2b')}; sleep 0.3; echo ran` };
    // SSH round trips stagger concurrent calls by milliseconds, so also start the same start
    // script 4 times within one host shell to hit the check-then-claim window for real.
    const start = (nonce: string) =>
      attachScript({
        dir: JOURNAL_DIR,
        lock: HOST_LOCK,
        id,
        nonce,
        fromOffset: 0,
        command: step.command,
        removeAfter: [],
      });
    const burst = h.run(['a', 'b', 'c', 'd'].map((n) => `(${start(n)}) &`).join(' ') + ' wait');
    const rs = await Promise.all([s, h].map((x) => runJournaled(x, step)));
    assert.equal(
      (await burst).stderr.match(/KHA-JOURNAL-END finished 0 \d+ 1/g)?.length ?? 0,
      rs.every((r) => r.attached) ? 1 : 0,
    );
    assert.deepEqual(
      rs.map((r) => r.output),
      ['ran\n', 'ran\n'],
    );
    assert.equal(await lines(tmp('count2b')), 1);
  });

  it('re-attaches from a new session after the first one closed mid-run', async () => {
    const id = newId();
    const step = { id, command: `echo run >> ${tmp('count3')}; echo start; sleep 3; echo end; exit 7` };
    const s1 = await open(d.user);
    let seen = 0;
    const p1 = runJournaled(s1, step, {
      onOffset: (o) => {
        seen = o;
      },
    });
    await until('the first output', async () => seen > 0);
    await s1.close();
    await assert.rejects(p1, isKind('connection-lost'));
    assert.equal(await journalState(s, id), 'running');
    const s2 = await open(d.user);
    try {
      const streamed: string[] = [];
      const r = await runJournaled(s2, step, { fromOffset: seen, onOutput: (c) => streamed.push(c) });
      assert.deepEqual(r, { id, state: 'finished', exitCode: 7, output: 'start\nend\n', attached: true });
      assert.equal(streamed.join(''), 'end\n'); // only what the first attempt had not seen
    } finally {
      await s2.close();
    }
    assert.equal(await lines(tmp('count3')), 1);
  });

  it('never overlaps two steps on one host (host lock), whatever their ids', async () => {
    const cmd = 'echo "S $(date +%s%N)"; sleep 0.6; echo "E $(date +%s%N)"';
    const t0 = Date.now();
    const [a, b] = await Promise.all([
      runJournaled(s, { id: newId(), command: cmd }),
      runJournaled(s, { id: newId(), command: cmd }),
    ]);
    const span = (o: { output: string }) =>
      o.output
        .trim()
        .split('\n')
        .map((l) => BigInt(l.split(' ')[1]));
    const [[as, ae], [bs, be]] = [span(a), span(b)];
    assert.ok(ae <= bs || be <= as, `overlap: ${a.output} / ${b.output}`);
    assert.ok(Date.now() - t0 >= 1200);
  });

  it('does not hand the host lock to daemons a step starts', async () => {
    const pidFile = tmp('daemon.pid');
    await runJournaled(s, { id: newId(), command: `sleep 6 </dev/null >/dev/null 2>&1 & echo $! > ${pidFile}` });
    const t0 = Date.now();
    try {
      const r = await runJournaled(s, { id: newId(), command: 'echo next' });
      assert.equal(r.output, 'next\n');
      assert.ok(Date.now() - t0 < 3000, `second step waited ${Date.now() - t0} ms for the lock`);
    } finally {
      await sh(`kill $(cat ${pidFile})`);
    }
  });

  it('skips the command when the guard says the work is done, runs it otherwise', async () => {
    const done = tmp('done5');
    const step = (id: string) => ({
      id,
      command: `echo run >> ${tmp('count5')}; touch ${done}`,
      guard: `test -e ${done}`,
      removeAfter: [tmp('conf5')],
    });
    const ran = await runJournaled(s, step(newId()));
    assert.equal(ran.state, 'finished');
    await sh(`echo secret > ${tmp('conf5')}`);
    const skipped = await runJournaled(s, step(newId()));
    assert.deepEqual(
      { ...skipped, id: '' },
      { id: '', state: 'already-done', exitCode: null, output: '', attached: false },
    );
    assert.equal(await lines(tmp('count5')), 1);
    assert.equal(await sh(`test -e ${tmp('conf5')} || echo removed`), 'removed\n');
  });

  it('writes the step input from stdin in the same exec (0600 root, 0700 folder), never in argv, and removes it after', async () => {
    const id = newId();
    const dir = tmp('in6');
    const file = `${dir}/join.yaml`;
    const hex = randomBytes(8).toString('hex');
    const secret = `token: q7x9zz.${hex}`;
    const seen = `${hex.slice(0, -1)}[${hex.slice(-1)}]`; // matches the secret, not this pattern in grep's own argv
    let execs = 0;
    const counting: HostSession = Object.create(s, {
      run: {
        value: (cmd: string, o?: object) => {
          execs++;
          return s.run(cmd, o);
        },
      },
    });
    const step = {
      id,
      command: `stat -c '%a %U' ${dir} ${file}; wc -c <${file}; ps -eo args | grep -c '${seen}' || :`,
      input: { path: file, content: `${secret}\n` },
      removeAfter: [file],
    };
    const r = await runJournaled(counting, step);
    assert.equal(execs, 1);
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(r.output, `700 root\n600 root\n${secret.length + 1}\n0\n`);
    assert.equal(await sh(`test -e ${file} || echo removed`), 'removed\n');
    assert.doesNotMatch(await sh(`cat ${entry(id)}/cmd`), new RegExp(hex));
    // A finished step is not written again: a late retry leaves nothing behind.
    const again = await runJournaled(s, step);
    assert.equal(again.attached, true);
    assert.equal(await sh(`test -e ${file} || echo absent`), 'absent\n');
  });

  it('attempts racing to start one step with an input run it once and leave no input behind', async () => {
    const id = newId();
    const file = tmp('in9/join.yaml');
    const command = `echo run >> ${tmp('count9')}; cat ${file} >/dev/null`;
    // Losers write the input too (they saw no entry yet); whoever ends last must not leave a copy after the winner's clean-up.
    const start = (nonce: string) =>
      attachScript({
        dir: JOURNAL_DIR,
        lock: HOST_LOCK,
        id,
        nonce,
        fromOffset: 0,
        command,
        removeAfter: [file],
        inputPath: file,
      });
    const burst = await h.run(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `(printf 'secret\\n' | ${start(n)}) 2>&1 &`).join(' ') + ' wait',
    );
    assert.equal(burst.stdout.match(/KHA-JOURNAL-END finished 0 \d+ 1/g)?.length, 1, burst.stdout);
    assert.equal(await lines(tmp('count9')), 1);
    assert.equal(await sh(`test -e ${file} || echo absent`), 'absent\n');
  });

  it("a step's input is put in place under the host lock: a step started meanwhile never changes what a waiting one reads", async () => {
    const dir = tmp('in10');
    const file = `${dir}/kubeadm-config.yaml`;
    // Another step holds the host lock (as a running kubeadm init does) while two steps with the same input start.
    const holder = h.run(`mkdir -p ${JOURNAL_DIR} && flock -x ${HOST_LOCK} sleep 2`);
    await until('the lock is held', async () => (await h.run(`flock -n ${HOST_LOCK} true`)).exitCode !== 0);
    const step = (content: string) => ({
      id: newId(),
      command: `cat ${file}`,
      input: { path: file, content },
      removeAfter: [file],
    });
    const first = runJournaled(s, step('first\n'));
    await sleep(500);
    const second = runJournaled(s, step('second\n'));
    await sleep(500);
    assert.equal(
      await sh(`test -e ${file} || echo 'not in place while the lock is held'`),
      'not in place while the lock is held\n',
    );
    await holder;
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual([a.output, b.output], ['first\n', 'second\n']);
    assert.equal(await sh(`ls -A ${dir}`), '', 'neither the input nor a staged copy is left');
  });

  it('a step the guard skips does not put its input in place', async () => {
    const file = tmp('in11.yaml');
    await sh(`echo keep > ${file}`);
    const r = await runJournaled(s, {
      id: newId(),
      command: `cat ${file}`,
      guard: 'true',
      input: { path: file, content: 'new\n' },
    });
    assert.equal(r.state, 'already-done');
    assert.equal(await sh(`cat ${file}; ls ${file}.* 2>/dev/null | wc -l`), 'keep\n0\n');
  });

  it('an abort kills the remote process group, records cancelled and removes removeAfter files', async () => {
    const id = newId();
    const [secret, child] = [tmp('join6.conf'), tmp('child6.pid')];
    await h.writeFile(secret, 'token: abcdef.0123456789abcdef\n', { mode: 0o600 });
    const ac = new AbortController();
    const p = runJournaled(
      s,
      { id, command: `sleep 60 & echo $! > ${child}; wait`, removeAfter: [secret] },
      { signal: ac.signal },
    );
    await until('the child pid', async () => (await sh(`cat ${child} 2>/dev/null || true`)).trim() !== '');
    const [childPid, runnerPid] = [(await sh(`cat ${child}`)).trim(), (await sh(`cat ${entry(id)}/pid`)).trim()];
    assert.equal(await gone(childPid), false);
    ac.abort();
    await assert.rejects(p, isKind('aborted', /recorded as cancelled/));
    assert.equal(await gone(childPid), true);
    assert.equal(await gone(runnerPid), true);
    assert.equal(await sh(`test -e ${secret} || echo removed`), 'removed\n');
    assert.equal(await sh(`cat ${entry(id)}/rc`), 'cancelled\n');
    assert.equal(await journalState(s, id), 'finished');
    const again = await runJournaled(s, { id, command: 'echo must-not-run' });
    assert.deepEqual(
      { state: again.state, exitCode: again.exitCode, attached: again.attached },
      { state: 'cancelled', exitCode: null, attached: true },
    );
    assert.equal(await cancelJournaled(s, id), false);
  });

  it('cancelling an id that never started keeps it from ever running', async () => {
    const id = newId();
    assert.equal(await journalState(s, id), 'absent');
    assert.equal(await cancelJournaled(s, id), true);
    const r = await runJournaled(s, { id, command: `echo run >> ${tmp('count6b')}` });
    assert.equal(r.state, 'cancelled');
    assert.equal(await lines(tmp('count6b')), 0);
  });

  it('redacts tokens, certificate keys and PEM keys on the host, keeping CA hashes', async () => {
    const id = newId();
    const hex = (n: number) => randomBytes(n).toString('hex');
    const [token, certKey, caHash, pemBody] = ['q1w2e3.abcdefghij012345', hex(32), hex(32), `MIIE${hex(20)}`];
    const src = tmp('secrets8');
    await h.writeFile(
      src,
      [
        `[bootstrap-token] Using token: ${token}`,
        '[upload-certs] Using certificate key:',
        certKey,
        `kubeadm join 10.0.0.1:6443 --token ${token} \\`,
        `\t--discovery-token-ca-cert-hash sha256:${caHash} --certificate-key ${certKey}`,
        '-----BEGIN PRIVATE KEY-----',
        pemBody,
        `${pemBody}2`,
        '-----END PRIVATE KEY-----',
        `  token: ${hex(8)}x`,
        `certificateKey: "${certKey}"`,
        'tail line',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // The secrets reach the command only through a file, never through its text.
    const r = await runJournaled(s, { id, command: `cat ${src}`, removeAfter: [src] });
    const onHost = await sh(`cat ${entry(id)}/*`);
    for (const text of [r.output, onHost]) {
      for (const secret of [token, certKey, pemBody]) assert.ok(!text.includes(secret), `${secret} leaked:\n${text}`);
      assert.ok(text.includes(`sha256:${caHash}`), text);
      // Every body line masked, one *** line for the block; quotes kept (the rules of src/common/redact.ts).
      assert.match(
        text,
        /-----BEGIN PRIVATE KEY-----\n\*\*\*\n-----END PRIVATE KEY-----\n {2}token: \*\*\*\ncertificateKey: "\*\*\*"\ntail line\n/,
      );
    }
  });

  it('reports a runner killed without a result as died', async () => {
    const id = newId();
    const secret = tmp('conf9');
    await sh(`echo x > ${secret}`);
    const p = runJournaled(s, { id, command: 'echo started; sleep 60', removeAfter: [secret] });
    await until('the runner pid', async () => (await sh(`cat ${entry(id)}/pid 2>/dev/null || true`)).trim() !== '');
    await sh(`kill -KILL -- -$(cat ${entry(id)}/pid)`);
    const r = await p;
    assert.deepEqual({ ...r, output: '' }, { id, state: 'died', exitCode: null, output: '', attached: false });
    const later = await runJournaled(s, { id, command: 'echo must-not-run' });
    assert.equal(later.state, 'died');
    assert.equal(later.attached, true);
    assert.equal(await sh(`test -e ${secret} || echo removed`), 'removed\n');
  });
});

for (const who of ['root', 'khatest'] as const) {
  it(`keeps a failing exit code through the redaction pipeline (${who})`, async () => {
    const s = await open(who);
    try {
      const r = await runJournaled(s, { id: newId(), command: 'id -u; echo abcdef.0123456789abcdef >&2; exit 3' });
      assert.deepEqual(
        { ...r, id: '' },
        { id: '', state: 'finished', exitCode: 3, output: '0\n***\n', attached: false },
      );
    } finally {
      await s.close();
    }
  });
}

describe('connection dropped under a running step', () => {
  let d2: Sshd;
  before(async () => {
    d2 = await startSshd();
  });
  after(async () => {
    await d2.stop();
  });

  /** sshd processes whose parent is one of `parents` (stat: pid (comm) state ppid ...). */
  async function sshdChildren(parents: string[]): Promise<string[]> {
    const out = await sh('for f in /proc/[0-9]*/stat; do read -r l < $f 2>/dev/null && echo "$l"; done; true');
    return out
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[1] === '(sshd)' && parents.includes(f[3]))
      .map((f) => f[0]);
  }

  /** SIGKILLs d2's per-connection processes: the [priv] monitor and the child holding the socket. */
  async function killConnections(): Promise<void> {
    const monitors = await sshdChildren([(await sh(`cat ${d2.dir}/sshd.pid`)).trim()]);
    const victims = [...monitors, ...(await sshdChildren(monitors))];
    assert.ok(victims.length >= 2, `per-connection sshd processes: ${victims.join()}`);
    await sh(`kill -KILL ${victims.join(' ')}`);
  }

  it('the command completes on the host and a new session collects the result', async () => {
    const id = newId();
    const step = { id, command: `echo run >> ${tmp('count7')}; echo start; sleep 2; echo done; exit 5` };
    const s1 = await open(d2.user, d2);
    try {
      const p = runJournaled(s1, step).then(
        () => assert.fail('the attach survived the dropped connection'),
        (e: unknown) => e,
      );
      await until('the step to start', async () => (await sh(`cat ${entry(id)}/out 2>/dev/null || true`)) !== '');
      await killConnections();
      assert.ok(isKind('connection-lost')(await p));
    } finally {
      await s1.close();
    }
    assert.equal(await journalState(h, id), 'running');
    const s2 = await open(d2.user, d2);
    try {
      const r = await runJournaled(s2, step);
      assert.deepEqual(r, { id, state: 'finished', exitCode: 5, output: 'start\ndone\n', attached: true });
    } finally {
      await s2.close();
    }
    assert.equal(await lines(tmp('count7')), 1);
  });
});
