// The plan as the operator reads it: every phase with its hosts or its reason, the gates, "nothing
// to do", the fingerprint; identical actions grouped so thousands of workers stay a few lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPlan, groupActions } from '../../src/client/format-plan';
import type { ClusterPlan } from '../../src/shared/plan';

const plan = (over: Partial<ClusterPlan> = {}): ClusterPlan => ({
  cluster: 'prod',
  kubernetesVersion: 'v1.37.2',
  clusterRead: 'not read: cp1 has no /etc/kubernetes/admin.conf',
  fingerprint: 'ab'.repeat(32),
  hosts: [
    { name: 'cp1', role: 'control-plane', state: 'clean', kubeadmVersion: 'v1.37.2' },
    { name: 'w1', role: 'worker', state: 'half-done', detail: 'kubelet.conf, no Node' },
  ],
  phases: [
    {
      name: 'init',
      title: 'kubeadm init on cp1',
      gate: 'init',
      actions: [{ host: 'cp1', role: 'control-plane', action: 'kubeadm init' }],
    },
    { name: 'distributeCerts', title: 'Copy', skip: 'certificates: upload' },
  ],
  gates: ['init'],
  nothingToDo: false,
  ...over,
});

test('each phase with its actions or why it is skipped, the gates and the fingerprint', () => {
  const text = formatPlan(plan());
  assert.match(text, /^ 1\. init: kubeadm init on cp1   \[waits for approval: init\]\n {6}cp1  kubeadm init$/m);
  assert.match(text, /^ 2\. distributeCerts: Copy\n {6}skipped: certificates: upload$/m);
  assert.match(text, /^w1 +worker +half-done +- +kubelet\.conf, no Node$/m);
  assert.match(text, /^A start asks for approval of: init$/m);
  assert.match(text, /^Facts fingerprint: sha256:(ab){32}$/m);
  assert.doesNotMatch(text, /Nothing to do/);
  assert.match(
    formatPlan(plan({ nothingToDo: true, gates: [] })),
    /^Nothing to do: the hosts and the cluster already match the cluster file; a start changes no host\.$/m,
  );
});

test('identical actions are grouped, naming the first hosts and counting the rest', () => {
  const actions = Array.from({ length: 5000 }, (_, i) => ({
    host: `w${i + 1}`,
    role: 'worker' as const,
    action: 'kubeadm join',
  }));
  actions.push({
    host: 'w9999',
    role: 'worker',
    action: 'reset what an earlier attempt left (kubelet.conf), then kubeadm join',
  });
  assert.deepEqual(groupActions(actions), [
    'kubeadm join: w1, w2, w3, w4, w5, w6, w7, w8 and 4992 more (5000 hosts)',
    'w9999  reset what an earlier attempt left (kubelet.conf), then kubeadm join',
  ]);
});
