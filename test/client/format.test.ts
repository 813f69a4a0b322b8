// What operators read: the status table and the watch stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProgress, progressEvents } from '../../src/client/format';
import type { Progress } from '../../src/shared/definitions';

const base = (): Progress => ({
  cluster: 'prod', status: 'awaiting-approval', phase: 'init', awaitingApproval: 'init', decisions: [], parked: [], cleanups: [],
  counts: { pending: 1, running: 0, done: 0, parked: 0, skipped: 0, failed: 0 },
  phases: [{ name: 'inspectHosts', title: 'Check hosts', state: 'done' }, { name: 'init', title: 'kubeadm init on cp1', state: 'pending' }],
  hosts: [{ name: 'cp1', address: '10.0.0.7', role: 'control-plane', state: 'pending', detail: 'kubeadm v1.31.4, clean' }],
});

describe('progress views', () => {
  it('status shows the waiting gate with the commands to decide it, phases, hosts, decisions and the last error', () => {
    const p = base();
    let text = formatProgress(p, 'RUNNING', 'kubeadm-ha-prod');
    assert.match(text, /phase "init" waits for approval/);
    assert.match(text, /approve: kubeadm-ha approve prod init --as <your name>/);
    assert.match(text, /^inspectHosts\s+done\s+Check hosts$/m);
    assert.match(text, /^cp1\s+control-plane\s+10\.0\.0\.7\s+pending\s+kubeadm v1\.31\.4, clean$/m);
    p.decisions.push({ key: 'gate:init', phase: 'init', verdict: 'approved', approver: 'alice', comment: 'CHG-1', at: '2026-11-25T12:00:00.000Z' });
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
    assert.deepEqual(progressEvents(prev, next), ['init approved by alice', 'phase init: running  (kubeadm init on cp1)', '  cp1: running — kubeadm init']);
    assert.deepEqual(progressEvents(next, next), [], 'nothing new, nothing printed');
  });

  it('a parked step shows every attempt and the commands that resolve it; a control plane offers no skip', () => {
    const p = base();
    delete p.awaitingApproval;
    p.status = 'parked';
    p.parked.push({
      key: 'park:joinNode:w2:2', phase: 'joinWorkers', step: 'joinNode', host: 'w2', role: 'worker', since: '2026-11-25T12:00:00.000Z', options: ['retry', 'skip', 'abort'],
      attempts: [{ attempt: 1, at: 't1', error: 'w2: kubeadm join failed: Port-10250' }, { attempt: 2, at: 't2', error: 'w2: kubeadm join failed again' }],
    });
    const text = formatProgress(p, 'RUNNING', 'kubeadm-ha-prod');
    assert.match(text, /joinNode on w2 \(worker\) is parked since 2026-11-25T12:00:00.000Z after 2 attempt\(s\)/);
    assert.match(text, /attempt 1 at t1: w2: kubeadm join failed: Port-10250\n.*attempt 2 at t2/);
    for (const verb of ['retry', 'skip', 'abort']) assert.match(text, new RegExp(`kubeadm-ha ${verb} prod w2 --as <your name>`));
    p.parked[0] = { ...p.parked[0], host: 'cp2', role: 'control-plane', options: ['retry', 'abort'] };
    assert.doesNotMatch(formatProgress(p, 'RUNNING', 'x'), /kubeadm-ha skip/);
    assert.deepEqual(progressEvents(p, p), [], 'a parked step is told once');
  });
});
