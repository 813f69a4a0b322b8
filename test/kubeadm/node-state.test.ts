// Done means done in the cluster: the node's files together with the cluster's own view.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  etcdctlCommand,
  etcdGatewayCommand,
  memberOf,
  parseGatewayMembers,
  parseMemberList,
} from '../../src/kubeadm/etcd';
import { fixture } from './fixtures';
import { hostFactsCommand, parseHostFacts } from '../../src/kubeadm/host-facts';
import type { NodeRow } from '../../src/kubeadm/kubectl';
import {
  controlPlaneState,
  describeUnknown,
  etcdHostState,
  initState,
  NodeFiles,
  type NodeState,
  type UnknownFact,
  workerState,
} from '../../src/kubeadm/node-state';

const CLEAN: NodeFiles = {
  adminConf: false,
  kubeletConf: false,
  bootstrapKubeletConf: false,
  manifests: [],
  etcdData: false,
};
const CP_FILES: NodeFiles = {
  ...CLEAN,
  adminConf: true,
  kubeletConf: true,
  manifests: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'],
  etcdData: true,
};
const row = (name: string, roles: string[] = []): NodeRow => ({
  name,
  status: 'Ready',
  roles,
  version: 'v1.31.4',
  ready: true,
});
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
    assert.deepEqual(m[0], {
      id: '8e9e05c52164694d',
      started: true,
      name: 'cp1',
      peerURLs: ['https://10.0.0.1:2380'],
      clientURLs: ['https://10.0.0.1:2379'],
      learner: false,
    });
    assert.equal(m[2].started, false);
    assert.equal(memberOf(m, cp3)?.id, 'fd422379fda50e48', 'an unnamed member is found by its peer address');
    assert.equal(memberOf(m, { name: 'cp9', address: '10.0.0.9' }), undefined);
  });
  it("reads the member list from etcd's JSON gateway, as a real etcd answers it", () => {
    // Recorded from Debian's etcd 3.4 with a learner added but not started: IDs in decimal, empty fields left out.
    const m = parseGatewayMembers(fixture('etcd-gateway-member-list.json'));
    assert.deepEqual(
      m,
      [
        {
          id: '18e81d71194ccf9a',
          name: '',
          peerURLs: ['http://127.0.0.2:23800'],
          clientURLs: [],
          started: false,
          learner: true,
        },
        {
          id: '2e1259d415f2a040',
          name: 'cp1',
          peerURLs: ['http://127.0.0.1:23800'],
          clientURLs: ['http://127.0.0.1:23790'],
          started: true,
          learner: false,
        },
      ],
      'the same IDs etcdctl member list printed for that cluster',
    );
    assert.throws(
      () => parseGatewayMembers(fixture('etcd-gateway-member-not-found.json')),
      /^Error: etcdserver: member not found$/,
    );
    assert.throws(() => parseGatewayMembers(''), /not an etcd gateway answer: \(empty\)/);
    assert.throws(() => parseGatewayMembers('<html>'), /not an etcd gateway answer: <html>/);
  });
  it('asks the gateway with curl and the healthcheck client certificate; remove takes the ID in decimal', () => {
    assert.equal(
      etcdGatewayCommand('10.0.0.1', { list: true }),
      'curl -sS --max-time 5 -X POST --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt ' +
        "--key /etc/kubernetes/pki/etcd/healthcheck-client.key -d '{}' 'https://10.0.0.1:2379/v3/cluster/member/list'",
    );
    assert.match(
      etcdGatewayCommand('fd00::1', { remove: '2e1259d415f2a040' }),
      / -d '\{"ID":"3319814642761637952"\}' 'https:\/\/\[fd00::1\]:2379\/v3\/cluster\/member\/remove'$/,
    );
  });
  it('runs etcdctl inside the etcd pod with the healthcheck client certificate', () => {
    assert.equal(
      etcdctlCommand('kubectl --kubeconfig /etc/kubernetes/admin.conf', 'cp1', [
        'member',
        'remove',
        'fd422379fda50e48',
      ]),
      "kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system exec 'etcd-cp1' -- etcdctl --endpoints=https://127.0.0.1:2379 " +
        '--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key ' +
        "'member' 'remove' 'fd422379fda50e48'",
    );
  });
});

describe('node state', () => {
  const cluster = {
    nodes: [row('cp1', ['control-plane']), row('cp2', ['control-plane']), row('w1')],
    etcdMembers: parseMemberList(MEMBERS),
  };
  const noApi: UnknownFact = {
    fact: "the cluster's Nodes",
    command: 'kubectl get nodes',
    exitCode: 1,
    error: 'through the load balancer: i/o timeout',
  };
  const noEtcd: UnknownFact = {
    fact: 'the etcd member list',
    command: 'curl ... /v3/cluster/member/list',
    exitCode: 7,
    error: 'Failed to connect',
  };
  const cp1 = { name: 'cp1', address: '10.0.0.1' };
  const cp2 = { name: 'cp2', address: '10.0.0.2' };
  const detail = (s: NodeState) => (s as { detail: string }).detail;

  it('a worker is joined when its Node is registered; files without a Node are half-done and reset by themselves', () => {
    assert.deepEqual(workerState(CLEAN, cluster, 'w2'), { state: 'clean' });
    assert.equal(workerState({ ...CLEAN, kubeletConf: true }, cluster, 'w1').state, 'joined');
    const half = workerState({ ...CLEAN, kubeletConf: true }, cluster, 'w2');
    assert.deepEqual(half, {
      state: 'half-done',
      detail: 'kubelet.conf present but no Node w2 is registered',
      live: [],
      removes: ['kubelet.conf'],
    });
  });

  it('a worker whose Node is registered but kubelet.conf is gone belongs to the live cluster', () => {
    const half = workerState({ ...CLEAN, bootstrapKubeletConf: true }, cluster, 'w1');
    assert.equal(half.state, 'half-done');
    assert.deepEqual((half as { live: string[] }).live, ['Node w1 is registered']);
  });

  it('unknown, never half-done, when no API server answered: the fact, the command and its error are named', () => {
    const s = workerState({ ...CLEAN, kubeletConf: true }, { unknown: noApi }, 'w1');
    assert.equal(s.state, 'unknown');
    assert.deepEqual((s as { unknown: UnknownFact }).unknown, noApi);
    assert.equal(
      detail(s),
      "kubelet.conf present; the cluster's Nodes could not be established: `kubectl get nodes` exited 1: through the load balancer: i/o timeout",
    );
    assert.equal(describeUnknown({ ...noApi, exitCode: null }).includes('did not finish'), true);
    assert.deepEqual(
      workerState(CLEAN, { unknown: noApi }, 'w1'),
      { state: 'clean' },
      'a host with nothing of kubeadm on it is clean whatever the cluster says',
    );
    assert.equal(controlPlaneState(CP_FILES, { unknown: noApi }, cp2, true).state, 'unknown');
    assert.equal(
      initState(CP_FILES, { unknown: noApi }, cp1, true).state,
      'unknown',
      'admin.conf with no answering API server is not half-done',
    );
  });

  it('an unreadable etcd member list makes a stacked control plane unknown, not half-done', () => {
    const view = { nodes: cluster.nodes, etcdUnknown: noEtcd };
    const s = controlPlaneState(CP_FILES, view, cp2, true);
    assert.equal(s.state, 'unknown');
    assert.match(
      detail(s),
      /whether cp2 is an etcd member .*curl \.\.\. \/v3\/cluster\/member\/list` exited 7: Failed to connect/,
    );
    assert.equal(initState(CP_FILES, view, cp1, true).state, 'unknown');
    assert.equal(controlPlaneState(CP_FILES, view, cp2, false).state, 'joined', 'external etcd needs no member list');
    assert.deepEqual(controlPlaneState(CLEAN, view, { name: 'cp4', address: '10.0.0.4' }, true), { state: 'clean' });
  });

  it('a control plane is joined with the role, its manifests and an etcd member; less is half-done, live when registered or a member', () => {
    assert.equal(controlPlaneState(CP_FILES, cluster, cp2, true).state, 'joined');
    // Failed at control-plane-join/etcd: kubelet.conf written, Node registered without the role.
    const afterKubeletStart = controlPlaneState(
      { ...CLEAN, kubeletConf: true },
      { ...cluster, nodes: [...cluster.nodes, row('cp3')] },
      cp3,
      true,
    );
    assert.equal(afterKubeletStart.state, 'half-done');
    assert.match(detail(afterKubeletStart), /lacks the control-plane role.*missing manifests/);
    assert.deepEqual((afterKubeletStart as { live: string[] }).live, [
      'Node cp3 is registered',
      'etcd member fd422379fda50e48 (unstarted) is listed',
    ]);
    // No files at all but a stale member: still half-done, the member must go.
    const stale = controlPlaneState(CLEAN, cluster, cp3, true);
    assert.equal(stale.state, 'half-done');
    assert.match(detail(stale), /etcd member fd422379fda50e48 listed/);
    assert.deepEqual((stale as { removes: string[] }).removes, ['etcd member fd422379fda50e48']);
    // A member whose API server manifest is gone: half-done, and live.
    const noApiserver = controlPlaneState(
      { ...CP_FILES, manifests: ['kube-controller-manager', 'kube-scheduler', 'etcd'] },
      cluster,
      cp2,
      true,
    );
    assert.equal(noApiserver.state, 'half-done');
    assert.deepEqual((noApiserver as { live: string[] }).live, [
      'Node cp2 is registered',
      'etcd member 91bc3c398fb3c146 (cp2) is listed',
    ]);
    // kubelet.conf and a manifest, but no Node and no member: leftovers of no live cluster.
    const orphan = controlPlaneState(
      { ...CLEAN, kubeletConf: true, manifests: ['kube-apiserver'] },
      cluster,
      { name: 'cp4', address: '10.0.0.4' },
      true,
    );
    assert.deepEqual((orphan as { live: string[] }).live, []);
    assert.deepEqual(controlPlaneState(CLEAN, cluster, { name: 'cp4', address: '10.0.0.4' }, true), { state: 'clean' });
    assert.equal(
      controlPlaneState(
        { ...CP_FILES, manifests: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] },
        { nodes: cluster.nodes },
        cp2,
        false,
      ).state,
      'joined',
      'external etcd: no member needed',
    );
  });

  it('init is done when admin.conf works, the API answers and the first node is a control plane; the first control plane is always live', () => {
    assert.equal(initState(CP_FILES, cluster, cp1, true).state, 'joined');
    assert.deepEqual(initState(CLEAN, { unknown: noApi }, cp1, true), { state: 'clean' });
    assert.deepEqual(
      initState({ ...CLEAN, caCert: true }, { unknown: noApi }, cp1, true),
      { state: 'clean' },
      'a CA the operator placed is no cluster',
    );
    // Its Node lost the role: half-done, and never reset without an operator.
    const half = initState(
      { ...CP_FILES, caCert: true },
      { ...cluster, nodes: [row('cp1'), row('cp2', ['control-plane'])] },
      cp1,
      true,
    );
    assert.equal(half.state, 'half-done');
    assert.match(
      (half as { live: string[] }).live[0],
      /^cp1 is the first control plane: its CA is the cluster's, its etcd data the cluster's state$/,
    );
    assert.ok(
      (half as { removes: string[] }).removes.includes('the cluster CA and every certificate in /etc/kubernetes/pki'),
    );
    const noAdmin = initState({ ...CP_FILES, adminConf: false }, cluster, cp1, true);
    assert.equal(noAdmin.state, 'half-done');
    assert.match(detail(noAdmin), /admin\.conf is missing/);
    assert.equal((noAdmin as { live: string[] }).live.length, 1);
  });
});

describe('external etcd member state', () => {
  it('done when its static pod manifest exists; member data without it is half-done, and may be live', () => {
    assert.deepEqual(etcdHostState({ ...CLEAN, manifests: ['etcd'], etcdData: true }), {
      state: 'joined',
      detail: 'etcd static pod present',
    });
    const half = etcdHostState({ ...CLEAN, etcdData: true });
    assert.equal(half.state, 'half-done');
    assert.equal((half as { live: string[] }).live.length, 1);
    assert.deepEqual(etcdHostState(CLEAN), { state: 'clean' });
  });
});

describe('host facts', () => {
  it("reads kubeadm's files and version from one command", () => {
    assert.match(hostFactsCommand(), /kubeadm version -o short/);
    const f = parseHostFacts(
      'hostname=cp2\nkubeadm=v1.31.4\nkubeletConf=1\ncaCert=1\nmanifest.kube-apiserver=1\nmanifest.etcd=1\n',
    );
    assert.deepEqual(f, {
      hostname: 'cp2',
      kubeadmVersion: 'v1.31.4',
      etcdctl: false,
      files: {
        adminConf: false,
        kubeletConf: true,
        bootstrapKubeletConf: false,
        etcdData: false,
        caCert: true,
        manifests: ['kube-apiserver', 'etcd'],
      },
    });
    assert.equal(parseHostFacts('hostname=x\nkubeadm=\n').kubeadmVersion, '');
    assert.equal(parseHostFacts('hostname=etcd1\nkubeadm=v1.31.4\netcdctl=1\n').etcdctl, true);
  });
});
