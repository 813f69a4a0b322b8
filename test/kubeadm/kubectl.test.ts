import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGetNodes, parseGetPods } from '../../src/kubeadm/kubectl';
import { fixture } from './fixtures';

test('get nodes 1.13: master roles, NotReady, <none>', () => {
  const rows = parseGetNodes(fixture('get-nodes-1.13.txt'));
  assert.equal(rows.length, 4);
  assert.deepEqual(rows[0], { name: 'cp0', status: 'Ready', roles: ['master'], version: 'v1.13.5', ready: true });
  assert.deepEqual(rows[2], { name: 'cp2', status: 'NotReady', roles: ['master'], version: 'v1.13.5', ready: false });
  assert.deepEqual(rows[3].roles, []);
});

test('get nodes 1.22 (control-plane,master) and 1.28 before CNI', () => {
  const r22 = parseGetNodes(fixture('get-nodes-1.22.txt'));
  assert.deepEqual(r22[0].roles, ['control-plane', 'master']);
  assert.deepEqual(
    r22.map((r) => r.ready),
    [true, true, false],
  );
  assert.deepEqual(parseGetNodes(fixture('get-nodes-1.28-no-cni.txt')), [
    { name: 'cp0', status: 'NotReady', roles: ['control-plane'], version: 'v1.28.2', ready: false },
  ]);
});

test('get nodes: other spacing, SchedulingDisabled, -o wide, empty', () => {
  const tabs = 'NAME\tSTATUS\tROLES\tAGE\tVERSION\ncp0\tReady,SchedulingDisabled\tcontrol-plane\t1d\tv1.30.1\n';
  assert.deepEqual(parseGetNodes(tabs), [
    { name: 'cp0', status: 'Ready,SchedulingDisabled', roles: ['control-plane'], version: 'v1.30.1', ready: true },
  ]);
  const single = 'NAME STATUS ROLES AGE VERSION\nw1 Ready <none> 3m v1.30.1\n';
  assert.equal(parseGetNodes(single)[0].name, 'w1');
  const wide =
    'NAME   STATUS   ROLES           AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE             KERNEL-VERSION      CONTAINER-RUNTIME\n' +
    'cp0    Ready    control-plane   9d    v1.30.1   10.0.0.6      <none>        Ubuntu 22.04.4 LTS   5.15.0-105-generic  containerd://1.7.12\n';
  assert.deepEqual(parseGetNodes(wide)[0], {
    name: 'cp0',
    status: 'Ready',
    roles: ['control-plane'],
    version: 'v1.30.1',
    ready: true,
  });
  assert.deepEqual(parseGetNodes(''), []);
  assert.deepEqual(parseGetNodes('No resources found\n'), []);
  assert.throws(() => parseGetNodes('garbage'), /unrecognised kubectl output/);
});

test('get pods -n kube-system: CoreDNS Pending before CNI', () => {
  const pods = parseGetPods(fixture('get-pods-kube-system-1.28.txt'));
  assert.equal(pods.length, 7);
  assert.deepEqual(pods[0], {
    name: 'coredns-5dd5756b68-7xk2p',
    ready: '0/1',
    status: 'Pending',
    restarts: '0',
    age: '2m',
  });
  assert.deepEqual(
    pods
      .filter((p) => p.status === 'Running')
      .map((p) => p.name.replace(/-cp0$/, ''))
      .sort(),
    ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-proxy-x8v7d', 'kube-scheduler'],
  );
});

test('get pods: RESTARTS with "(5m ago)", -A namespace column, single spaces', () => {
  const out =
    'NAMESPACE     NAME                 READY   STATUS    RESTARTS      AGE\n' +
    'kube-system   etcd-cp0             1/1     Running   1 (5m ago)    2d\n';
  assert.deepEqual(parseGetPods(out), [
    { namespace: 'kube-system', name: 'etcd-cp0', ready: '1/1', status: 'Running', restarts: '1 (5m ago)', age: '2d' },
  ]);
  const single = 'NAME READY STATUS RESTARTS AGE\netcd-cp0 1/1 Running 2 (1h ago) 3d\n';
  assert.deepEqual(parseGetPods(single), [
    { name: 'etcd-cp0', ready: '1/1', status: 'Running', restarts: '2 (1h ago)', age: '3d' },
  ]);
});
