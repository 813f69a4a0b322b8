// What operators read: the status table and the watch stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProgress, progressEvents } from '../../src/client/format';
import type { Progress } from '../../src/shared/definitions';

const base = (): Progress => ({
  cluster: 'prod', status: 'awaiting-approval', phase: 'init', awaitingApproval: 'init', decisions: [],
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
    p.decisions.push({ phase: 'init', verdict: 'approved', approver: 'alice', comment: 'CHG-1', at: '2026-11-25T12:00:00.000Z' });
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
    next.decisions.push({ phase: 'init', verdict: 'approved', approver: 'alice', at: 'x' });
    next.phases[1].state = 'running';
    next.hosts[0] = { ...next.hosts[0], state: 'running', detail: 'kubeadm init' };
    next.awaitingApproval = undefined;
    assert.deepEqual(progressEvents(prev, next), ['init approved by alice', 'phase init: running  (kubeadm init on cp1)', '  cp1: running — kubeadm init']);
    assert.deepEqual(progressEvents(next, next), [], 'nothing new, nothing printed');
  });
});
