// kubectl drain's output read as kubectl prints it (staging/src/k8s.io/kubectl/pkg/drain/drain.go),
// the eviction API's refusal (pkg/registry/core/pod/storage/eviction.go), and the etcd quorum rule
// for removing a member.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  budgetsCommand,
  deleteNodeCommand,
  drainCommand,
  exhaustedBudgets,
  podsBlockedByBudgets,
  uncordonCommand,
} from '../../src/kubeadm/drain';
import {
  type EtcdMember,
  etcdGatewayCommand,
  parseGatewayHealth,
  parseGatewayLeader,
  removalQuorumProblem,
} from '../../src/kubeadm/etcd';

const K = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';

describe('drain', () => {
  it('drains as kubeadm docs do, without --force, quoting the node', () => {
    assert.equal(drainCommand(K, 'w1'), `${K} drain 'w1' --ignore-daemonsets --delete-emptydir-data --timeout=120s`);
    assert.equal(deleteNodeCommand(K, "w1'; reboot"), `${K} delete node 'w1'\\''; reboot' --ignore-not-found`);
    assert.match(budgetsCommand(K), /get poddisruptionbudgets --all-namespaces -o jsonpath=/);
  });

  it("names emptyDir's flag as the kubectl in use does, evicts unless told otherwise, uncordons", () => {
    assert.equal(
      drainCommand(K, 'w1', { kubectlVersion: 'v1.19.16', timeoutSeconds: 300 }),
      `${K} drain 'w1' --ignore-daemonsets --delete-local-data --timeout=300s`,
    );
    assert.equal(
      drainCommand(K, 'w1', { kubectlVersion: 'v1.20.0' }),
      `${K} drain 'w1' --ignore-daemonsets --delete-emptydir-data --timeout=120s`,
    );
    assert.equal(
      drainCommand(K, 'w1', { disableEviction: true, kubectlVersion: 'v1.18.20' }),
      `${K} drain 'w1' --ignore-daemonsets --delete-local-data --disable-eviction --timeout=120s`,
    );
    assert.equal(
      drainCommand(K, 'w1', { disableEviction: true }),
      `${K} drain 'w1' --ignore-daemonsets --delete-emptydir-data --disable-eviction --timeout=120s`,
    );
    assert.throws(
      () => drainCommand(K, 'w1', { disableEviction: true, kubectlVersion: 'v1.17.17' }),
      /kubectl v1\.17\.17 has no --disable-eviction \(kubectl 1\.18\+\)/,
    );
    assert.throws(() => drainCommand(K, 'w1', { timeoutSeconds: 0 }), /drain timeout: 0 is not a positive/);
    assert.equal(uncordonCommand(K, "w1'; reboot"), `${K} uncordon 'w1'\\''; reboot'`);
  });

  it('names the pods a disruption budget kept, and the budgets that allow no disruption', () => {
    const out = [
      'node/w1 cordoned',
      'Warning: ignoring DaemonSet-managed Pods: kube-flannel/kube-flannel-ds-x7k2p, kube-system/kube-proxy-9qk5m',
      'evicting pod shop/web-5d7f8b9c6-abcde',
      'evicting pod shop/cache-0',
      `error when evicting pods/"web-5d7f8b9c6-abcde" -n "shop" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`,
      'pod/cache-0 evicted',
      `error when evicting pods/"web-5d7f8b9c6-abcde" -n "shop" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`,
      `There are pending pods in node "w1" when an error occurred: error when evicting pods/"web-5d7f8b9c6-abcde" -n "shop": global timeout reached: 2m0s`,
      `error: unable to drain node "w1" due to error: error when evicting pods/"web-5d7f8b9c6-abcde" -n "shop": global timeout reached: 2m0s, continuing command...`,
    ].join('\n');
    assert.deepEqual(podsBlockedByBudgets(out), ['shop/web-5d7f8b9c6-abcde']);
    assert.deepEqual(podsBlockedByBudgets('error: unable to drain node "w1": timed out'), []);
    assert.deepEqual(exhaustedBudgets('shop web-pdb 0\nshop cache-pdb 1\nother x 0\n', ['shop']), ['shop/web-pdb']);
  });
});

describe('etcd membership changes', () => {
  const m = (id: string, name: string): EtcdMember => ({
    id,
    name,
    peerURLs: [],
    clientURLs: [],
    started: true,
    learner: false,
  });
  const three = [m('a1', 'cp1'), m('b2', 'cp2'), m('c3', 'cp3')];

  it('refuses a removal that would cost the quorum, naming the unhealthy members', () => {
    assert.equal(removalQuorumProblem(three, new Set(['a1', 'b2', 'c3']), 'c3'), undefined);
    assert.equal(removalQuorumProblem(three, new Set(['a1', 'b2']), 'c3'), undefined, 'the one removed may be down');
    assert.match(
      removalQuorumProblem(three, new Set(['a1', 'c3']), 'c3')!,
      /^removing it would leave 2 members of which only 1 are healthy, below the quorum of 2 \(unhealthy: cp2\)/,
    );
    assert.match(removalQuorumProblem([m('a1', 'cp1')], new Set(['a1']), 'a1')!, /the only etcd member/);
    const five = [...three, m('d4', 'cp4'), m('e5', 'cp5')];
    assert.equal(removalQuorumProblem(five, new Set(['a1', 'b2', 'c3']), 'e5'), undefined, '3 of 4 is a quorum');
  });

  it("reads the gateway's status and health, and transfers the leadership as etcdctl move-leader does", () => {
    assert.equal(parseGatewayLeader('{"header":{"member_id":"1"},"leader":"3319814642761637952"}'), '2e1259d415f2a040');
    assert.throws(() => parseGatewayLeader('{"error":"etcdserver: no leader","code":14}'), /no leader/);
    assert.equal(parseGatewayHealth('{"health":"true","reason":""}'), true);
    assert.equal(parseGatewayHealth('{"health":"false","reason":"RAFT NO LEADER"}'), false);
    assert.equal(parseGatewayHealth('curl: (7) Failed to connect'), false);
    assert.match(
      etcdGatewayCommand('10.0.0.1', { transfer: '2e1259d415f2a040' }),
      / -X POST .* -d '\{"targetID":"3319814642761637952"\}' 'https:\/\/10\.0\.0\.1:2379\/v3\/maintenance\/transfer-leadership'$/,
    );
    assert.match(
      etcdGatewayCommand('10.0.0.1', { health: true }),
      /^curl -sS --max-time 5 --cacert .* 'https:\/\/10\.0\.0\.1:2379\/health'$/,
    );
  });
});
