// What operators read: the status table and the watch stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProgress, progressEvents } from '../../src/client/format';
import { HostSummary, summaryLine } from '../../src/client/host-counts';
import { rateFromHistory, rateOf } from '../../src/client/rate';
import { HOST_STATES, type HostProgress, type HostState, type Progress } from '../../src/shared/definitions';

const base = (): Progress => ({
  cluster: 'prod',
  status: 'awaiting-approval',
  phase: 'init',
  awaitingApproval: 'init',
  decisions: [],
  parked: [],
  cleanups: [],
  counts: { pending: 1, running: 0, done: 0, parked: 0, skipped: 0, failed: 0 },
  phases: [
    { name: 'inspectHosts', title: 'Check hosts', state: 'done' },
    { name: 'init', title: 'kubeadm init on cp1', state: 'pending' },
  ],
  hosts: [
    { name: 'cp1', address: '10.0.0.7', role: 'control-plane', state: 'pending', detail: 'kubeadm v1.31.4, clean' },
  ],
});

describe('progress views', () => {
  it('status shows the waiting gate with the commands to decide it, phases, hosts, decisions and the last error', () => {
    const p = base();
    let text = formatProgress(p, 'RUNNING', 'kubeadm-ha-prod');
    assert.match(text, /phase "init" waits for approval/);
    assert.match(text, /approve: kubeadm-ha approve prod init --as <your name>/);
    assert.match(text, /^inspectHosts\s+done\s+Check hosts$/m);
    assert.match(text, /^cp1\s+control-plane\s+10\.0\.0\.7\s+pending\s+kubeadm v1\.31\.4, clean$/m);
    p.decisions.push({
      key: 'gate:init',
      phase: 'init',
      verdict: 'approved',
      approver: 'alice',
      comment: 'CHG-1',
      at: '2026-11-25T12:00:00.000Z',
    });
    p.lastError = 'joinWorkers: w2: kubeadm join failed';
    delete p.awaitingApproval;
    text = formatProgress(p, 'FAILED', 'kubeadm-ha-prod');
    assert.match(text, /init: approved by alice at 2026-11-25T12:00:00.000Z — "CHG-1"/);
    assert.match(text, /Last error: joinWorkers: w2: kubeadm join failed/);
    assert.doesNotMatch(text, /approve: /);
  });

  it('watch prints a decision before the phases it lets run, then hosts, then the next gate', () => {
    const prev = base();
    const next = base();
    next.decisions.push({ key: 'gate:init', phase: 'init', verdict: 'approved', approver: 'alice', at: 'x' });
    next.phases[1].state = 'running';
    next.hosts[0] = { ...next.hosts[0], state: 'running', detail: 'kubeadm init' };
    next.awaitingApproval = undefined;
    assert.deepEqual(progressEvents(prev, next), [
      'init approved by alice',
      'phase init: running  (kubeadm init on cp1)',
      '  cp1: running — kubeadm init',
    ]);
    assert.deepEqual(progressEvents(next, next), [], 'nothing new, nothing printed');
  });

  it('a parked step shows every attempt and the commands that resolve it; a control plane offers no skip', () => {
    const p = base();
    delete p.awaitingApproval;
    p.status = 'parked';
    p.parked.push({
      key: 'park:joinNode:w2:2',
      phase: 'joinWorkers',
      step: 'joinNode',
      host: 'w2',
      role: 'worker',
      since: '2026-11-25T12:00:00.000Z',
      options: ['retry', 'skip', 'abort'],
      attempts: [
        { attempt: 1, at: 't1', error: 'w2: kubeadm join failed: Port-10250' },
        { attempt: 2, at: 't2', error: 'w2: kubeadm join failed again' },
      ],
    });
    const text = formatProgress(p, 'RUNNING', 'kubeadm-ha-prod');
    assert.match(text, /joinNode on w2 \(worker\) is parked since 2026-11-25T12:00:00.000Z after 2 attempt\(s\)/);
    assert.match(text, /attempt 1 at t1: w2: kubeadm join failed: Port-10250\n.*attempt 2 at t2/);
    for (const verb of ['retry', 'skip', 'abort'])
      assert.match(text, new RegExp(`kubeadm-ha ${verb} prod w2 --as <your name>`));
    p.parked[0] = { ...p.parked[0], host: 'cp2', role: 'control-plane', options: ['retry', 'abort'] };
    assert.doesNotMatch(formatProgress(p, 'RUNNING', 'x'), /kubeadm-ha skip/);
    assert.deepEqual(progressEvents(p, p), [], 'a parked step is told once');
  });
});

/** A cluster of one control plane (done) and `workers` workers, the first `done` of them joined, the next `running` joining. */
function large(
  workers: number,
  done: number,
  running: number,
  extra: Partial<Record<string, HostState>> = {},
): Progress {
  const hosts: HostProgress[] = [
    { name: 'cp1', address: '198.18.50.11', role: 'control-plane', state: 'done', detail: 'initialised' },
  ];
  for (let i = 1; i <= workers; i++) {
    const state: HostState = extra[`w${i}`] ?? (i <= done ? 'done' : i <= done + running ? 'running' : 'pending');
    hosts.push({
      name: `w${i}`,
      address: `127.50.20.${i}`,
      role: 'worker',
      state,
      detail:
        state === 'done'
          ? 'joined as worker'
          : state === 'running'
            ? 'joinNode'
            : state === 'parked'
              ? `joinNode parked: w${i}: Port-10250 is in use`
              : undefined,
    });
  }
  const counts = Object.fromEntries(
    HOST_STATES.map((s) => [s, hosts.filter((h) => h.state === s).length]),
  ) as Progress['counts'];
  return {
    cluster: 'big',
    status: 'running',
    phase: 'joinWorkers',
    decisions: [],
    parked: [],
    cleanups: [],
    counts,
    hosts,
    phases: [
      { name: 'init', title: 'kubeadm init on cp1', state: 'done' },
      { name: 'joinWorkers', title: 'Join the workers, at most 20 at a time', state: 'running' },
      { name: 'verifyNodes', title: 'Verify every node', state: 'pending' },
    ],
  };
}

describe('progress views of large clusters', () => {
  it('status counts hosts per state and role, names the failed and parked ones with their detail, counts the running ones, and shows rate and ETA', () => {
    const p = large(500, 230, 20, { w7: 'parked', w9: 'failed' });
    p.hosts.find((h) => h.name === 'w9')!.detail = 'joinNode failed: w9: unreachable';
    const rate = rateOf(
      'joinWorkers',
      [
        { t: 0, done: 0 },
        { t: 20 * 60_000, done: 226 },
      ],
      270,
    );
    const text = formatProgress(p, 'RUNNING', 'kubeadm-ha-big', { rate });
    assert.ok(text.split('\n').length < 40, `a summary, not a 500-line table:\n${text}`);
    assert.match(text, /^ROLE\s+TOTAL\s+PENDING\s+RUNNING\s+DONE\s+PARKED\s+SKIPPED\s+FAILED$/m);
    assert.match(text, /^control-plane\s+1\s+0\s+0\s+1\s+0\s+0\s+0$/m);
    assert.match(text, /^worker\s+500\s+250\s+20\s+228\s+1\s+0\s+1$/m);
    assert.match(
      text,
      /^Parked \(1\):\n.*\nw7\s+worker\s+127\.50\.20\.7\s+parked\s+joinNode parked: w7: Port-10250 is in use$/m,
    );
    assert.match(
      text,
      /^Failed \(1\):\n.*\nw9\s+worker\s+127\.50\.20\.9\s+failed\s+joinNode failed: w9: unreachable$/m,
    );
    assert.match(text, /^Running \(20\): w231, w232, w233, w234, w235, … and 15 more$/m);
    assert.match(
      text,
      /^joinWorkers: 229\/501 done, 20 running, 1 parked, 1 failed, 11\.3\/min, ETA 24m  \(rate over 20m of the phase\)$/m,
    );
    assert.doesNotMatch(text, /^w100\s/m, 'done hosts are not listed');
    assert.match(text, /kubeadm-ha status big --hosts/);
    const all = formatProgress(p, 'RUNNING', 'kubeadm-ha-big', { allHosts: true });
    assert.match(
      all,
      /^w100\s+worker\s+127\.50\.20\.100\s+done\s+joined as worker$/m,
      '--hosts prints the whole table',
    );
  });

  it('status names the waves of a run in waves: how many are done, and the open ones', () => {
    const p = large(1200, 600, 20);
    p.waves = [
      { id: 'kubeadm-ha-big/inspect-1', step: 'inspectHost', hosts: 500, state: 'done' },
      { id: 'kubeadm-ha-big/workers-1', step: 'joinNode', hosts: 500, state: 'done' },
      { id: 'kubeadm-ha-big/workers-2', step: 'joinNode', hosts: 500, state: 'running' },
    ];
    const text = formatProgress(p, 'RUNNING', 'kubeadm-ha-big');
    assert.match(text, /^Waves: 2 of 3 done; kubeadm-ha-big\/workers-2 \(500 hosts, running\)$/m);
  });

  it('status of a recorded (compact) view counts what it does not list; small clusters keep the full table', () => {
    const p = large(100, 50, 10);
    p.hosts = p.hosts.filter((h) => h.state !== 'done' && h.state !== 'pending');
    const text = formatProgress(p, 'COMPLETED', 'kubeadm-ha-big');
    assert.match(text, /hosts: 40 pending, 10 running, 51 done \(done and pending hosts are counted, not listed/);
    assert.match(text, /^Running \(10\): w51, w52, w53, w54, w55, … and 5 more$/m);
    assert.doesNotMatch(text, /--hosts/, 'the recorded view has no more hosts to show');
    const small = large(5, 2, 1);
    assert.match(formatProgress(small, 'RUNNING', 'x'), /^w5\s+worker\s+127\.50\.20\.5\s+pending$/m);
    assert.doesNotMatch(formatProgress(small, 'RUNNING', 'x'), /^ROLE\s+TOTAL/m);
  });

  it('the rate comes from (time, done) samples, or from the history: phase start and completions of its step', () => {
    assert.deepEqual(
      rateOf(
        'joinWorkers',
        [
          { t: 1000, done: 10 },
          { t: 61_000, done: 40 },
        ],
        60,
      ),
      { phase: 'joinWorkers', done: 30, perMinute: 30, overMs: 60_000, etaMinutes: 2 },
    );
    assert.equal(rateOf('joinWorkers', [{ t: 5, done: 0 }], 9)?.perMinute, 0, 'one sample measures nothing');
    assert.equal(rateOf('joinWorkers', [], 9), undefined);
    const marks = [
      { t: 0, kind: 'phase' as const, phase: 'inspectHosts' },
      ...Array.from({ length: 101 }, (_, i) => ({
        t: 100 + i,
        kind: 'completed' as const,
        activityType: 'inspectHost',
      })),
      { t: 10_000, kind: 'phase' as const, phase: 'joinWorkers' },
      { t: 10_500, kind: 'completed' as const, activityType: 'ensureJoinToken' },
      ...Array.from({ length: 30 }, (_, i) => ({
        t: 11_000 + i * 1000,
        kind: 'completed' as const,
        activityType: 'joinNode',
      })),
    ];
    const r = rateFromHistory('joinWorkers', marks, 70, 70_000)!;
    assert.equal(r.done, 30);
    assert.equal(r.perMinute, 30);
    assert.equal(r.etaMinutes, 70 / 30);
    assert.equal(rateFromHistory('init', marks, 1, 70_000), undefined, 'no rate for a one-host phase');
    assert.equal(
      summaryLine(large(500, 230, 20), 'joinWorkers', r),
      'joinWorkers: 231/501 done, 20 running, 30.0/min, ETA 2m',
    );
  });

  it('watch prints one summary line per change of counts at most every 5 s, parks and failures by host, and a last line when the phase ends', () => {
    const summary = new HostSummary(5000);
    const seen: string[] = [];
    let prev: Progress | undefined;
    const poll = (p: Progress, now: number) => {
      const e = progressEvents(prev, p, { summary, now });
      prev = p;
      seen.push(...e);
      return e;
    };
    assert.deepEqual(poll(large(500, 0, 20), 0), [
      'phase init: done  (kubeadm init on cp1)',
      'phase joinWorkers: running  (Join the workers, at most 20 at a time)',
      'joinWorkers: 1/501 done, 20 running',
    ]);
    assert.deepEqual(poll(large(500, 3, 20), 1000), [], 'not within 5 s of the last line');
    assert.deepEqual(poll(large(500, 10, 20), 60_000), ['joinWorkers: 11/501 done, 20 running, 10.0/min, ETA 49m']);
    assert.deepEqual(poll(large(500, 10, 20), 70_000), [], 'no change, no line');
    const parked = large(500, 12, 19, { w11: 'parked' });
    parked.parked.push({
      key: 'park:joinNode:w11:1',
      phase: 'joinWorkers',
      step: 'joinNode',
      host: 'w11',
      role: 'worker',
      since: 't',
      options: ['retry', 'skip', 'abort'],
      attempts: [{ attempt: 1, at: 't', error: 'w11: Port-10250' }],
    });
    const failed = large(500, 12, 19, { w11: 'parked', w12: 'failed' });
    failed.parked = parked.parked;
    const e = poll(failed, 72_000);
    assert.ok(e.includes('  w12: failed'), e.join('\n'));
    assert.ok(
      e.some((l) => /^joinNode on w11 \(worker\) is parked since t after 1 attempt\(s\):$/.test(l)),
      'parks are told in full at once',
    );
    assert.ok(!e.some((l) => /^  w\d+: (running|done)/.test(l)), 'no per-host progress lines');
    const end = large(500, 500, 0, { w11: 'parked', w12: 'failed' });
    end.phases[1].state = 'done';
    end.phases[2].state = 'running';
    end.parked = parked.parked;
    const last = poll(end, 73_000);
    assert.match(
      last[0],
      /^joinWorkers: 499\/501 done, 1 parked, 1 failed, 4\d{2}\.\d\/min$/,
      "the phase's last word, before the phase lines",
    );
    assert.deepEqual(
      last.slice(1),
      [
        'phase joinWorkers: done  (Join the workers, at most 20 at a time)',
        'phase verifyNodes: running  (Verify every node)',
      ],
      'the next phase starts from the same counts: not told twice',
    );
    assert.ok(seen.length < 20);
  });

  it('watch keeps per-host lines for a small cluster, with or without a summary', () => {
    const prev = large(3, 0, 1);
    const next = large(3, 1, 1);
    assert.deepEqual(progressEvents(prev, next, { summary: new HostSummary(), now: 0 }), [
      '  w1: done — joined as worker',
      '  w2: running — joinNode',
    ]);
  });
});
