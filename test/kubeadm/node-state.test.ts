// Done means done in the cluster: the node's files together with the cluster's own view.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etcdctlCommand, memberOf, parseMemberList } from '../../src/kubeadm/etcd';
import { hostFactsCommand, parseHostFacts } from '../../src/kubeadm/host-facts';
import type { NodeRow } from '../../src/kubeadm/kubectl';
import { controlPlaneState, etcdHostState, initState, NodeFiles, workerState } from '../../src/kubeadm/node-state';

const CLEAN: NodeFiles = { adminConf: false, kubeletConf: false, bootstrapKubeletConf: false, manifests: [], etcdData: false };
const CP_FILES: NodeFiles = { ...CLEAN, adminConf: true, kubeletConf: true, manifests: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'], etcdData: true };
const row = (name: string, roles: string[] = []): NodeRow => ({ name, status: 'Ready', roles, version: 'v1.31.4', ready: true });
// etcdctl member list, simple format (go.etcd.io/etcd/etcdctl/ctlv3/command/printer_simple.go).
const MEMBERS = [
  '8e9e05c52164694d, started, cp1, https://10.0.0.1:2380, https://10.0.0.1:2379, false',
  '91bc3c398fb3c146, started, cp2, https://10.0.0.2:2380, https://10.0.0.2:2379, false',
  'fd422379fda50e48, unstarted, , https://10.0.0.3:2380, , false',
].join('\n');
const cp3 = { name: 'cp3', address: '10.0.0.3' };

describe('etcd membership', () => {
  it('parses etcdctl member list, including a member added but never started', () => {
    const m = parseMemberList(MEMBERS + '\n');
    assert.equal(m.length, 3);
    assert.deepEqual(m[0], { id: '8e9e05c52164694d', started: true, name: 'cp1', peerURLs: ['https://10.0.0.1:2380'], clientURLs: ['https://10.0.0.1:2379'], learner: false });
    assert.equal(m[2].started, false);
    assert.equal(memberOf(m, cp3)?.id, 'fd422379fda50e48', 'an unnamed member is found by its peer address');
    assert.equal(memberOf(m, { name: 'cp9', address: '10.0.0.9' }), undefined);
  });
  it('runs etcdctl inside the etcd pod with the healthcheck client certificate', () => {
    assert.equal(etcdctlCommand('kubectl --kubeconfig /etc/kubernetes/admin.conf', 'cp1', ['member', 'remove', 'fd422379fda50e48']),
      "kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system exec 'etcd-cp1' -- etcdctl --endpoints=https://127.0.0.1:2379 " +
      '--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key ' +
      "'member' 'remove' 'fd422379fda50e48'");
  });
});

describe('node state', () => {
  const cluster = { nodes: [row('cp1', ['control-plane']), row('cp2', ['control-plane']), row('w1')], etcdMembers: parseMemberList(MEMBERS) };

  it('a worker is joined when its Node is registered; files without a Node are half-done', () => {
    assert.deepEqual(workerState(CLEAN, cluster, 'w2'), { state: 'clean' });
    assert.equal(workerState({ ...CLEAN, kubeletConf: true }, cluster, 'w1').state, 'joined');
    const half = workerState({ ...CLEAN, kubeletConf: true }, cluster, 'w2');
    assert.equal(half.state, 'half-done');
    assert.match((half as { detail: string }).detail, /kubelet\.conf present but no Node w2 is registered/);
    assert.equal(workerState({ ...CLEAN, kubeletConf: true }, undefined, 'w1').state, 'half-done', 'unconfirmed is not done');
  });

  it('a control plane is joined with the role, its manifests and an etcd member; less is half-done', () => {
    assert.equal(controlPlaneState(CP_FILES, cluster, { name: 'cp2', address: '10.0.0.2' }, true).state, 'joined');
    // Failed at control-plane-join/etcd: kubelet.conf written, Node registered without the role.
    const afterKubeletStart = controlPlaneState({ ...CLEAN, kubeletConf: true }, { ...cluster, nodes: [...cluster.nodes, row('cp3')] }, cp3, true);
    assert.equal(afterKubeletStart.state, 'half-done');
    assert.match((afterKubeletStart as { detail: string }).detail, /lacks the control-plane role.*missing manifests/);
    // No files at all but a stale member: still half-done, the member must go.
    const stale = controlPlaneState(CLEAN, cluster, cp3, true);
    assert.equal(stale.state, 'half-done');
    assert.match((stale as { detail: string }).detail, /etcd member fd422379fda50e48 listed/);
    assert.deepEqual(controlPlaneState(CLEAN, cluster, { name: 'cp4', address: '10.0.0.4' }, true), { state: 'clean' });
    assert.equal(controlPlaneState({ ...CP_FILES, manifests: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] }, { nodes: cluster.nodes }, { name: 'cp2', address: '10.0.0.2' }, false).state, 'joined', 'external etcd: no member needed');
  });

  it('init is done when admin.conf works, the API answers and the first node is a control plane', () => {
    const cp1 = { name: 'cp1', address: '10.0.0.1' };
    assert.equal(initState(CP_FILES, cluster, cp1, true).state, 'joined');
    assert.deepEqual(initState(CLEAN, undefined, cp1, true), { state: 'clean' });
    assert.match((initState({ ...CLEAN, adminConf: true }, undefined, cp1, true) as { detail: string }).detail, /API server does not answer/);
  });
});

describe('external etcd member state', () => {
  it('done when its static pod manifest exists; member data without it is half-done', () => {
    assert.deepEqual(etcdHostState({ ...CLEAN, manifests: ['etcd'], etcdData: true }), { state: 'joined', detail: 'etcd static pod present' });
    assert.equal(etcdHostState({ ...CLEAN, etcdData: true }).state, 'half-done');
    assert.deepEqual(etcdHostState(CLEAN), { state: 'clean' });
  });
});

describe('host facts', () => {
  it('reads kubeadm\'s files and version from one command', () => {
    assert.match(hostFactsCommand(), /kubeadm version -o short/);
    const f = parseHostFacts('hostname=cp2\nkubeadm=v1.31.4\nkubeletConf=1\nmanifest.kube-apiserver=1\nmanifest.etcd=1\n');
    assert.deepEqual(f, {
      hostname: 'cp2', kubeadmVersion: 'v1.31.4', etcdctl: false,
      files: { adminConf: false, kubeletConf: true, bootstrapKubeletConf: false, etcdData: false, manifests: ['kube-apiserver', 'etcd'] },
    });
    assert.equal(parseHostFacts('hostname=x\nkubeadm=\n').kubeadmVersion, '');
    assert.equal(parseHostFacts('hostname=etcd1\nkubeadm=v1.31.4\netcdctl=1\n').etcdctl, true);
  });
});
