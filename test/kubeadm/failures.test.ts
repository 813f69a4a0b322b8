import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alreadyDoneBy, classifyKubeadmFailure, type KubeadmFailure } from '../../src/kubeadm/failures';
import { fixture } from './fixtures';

const KEY = 'f9ea00c50ef12a386949dfb84b3abb2aa1053cc84f3792cd4b8aa6cc42c1fd57';
const TOKEN = '38tjlt.ibkwbtflmj6w8qmg';

/** transient: healed by `kubeadm reset -f` and a new attempt; otherwise the step parks for an operator. */
function check(f: KubeadmFailure, kind: KubeadmFailure['kind'], transient: boolean): void {
  assert.equal(f.kind, kind, f.summary);
  assert.equal(f.transient, transient, f.summary);
  assert.ok(f.summary.length > 0 && f.summary.length < 300, `summary length ${f.summary.length}`);
  assert.ok(!f.summary.includes(TOKEN) && !f.summary.includes(KEY), 'summary leaks a secret');
  assert.ok(!f.summary.includes('\n'));
}

test('re-run init: preflight on files an earlier init left, healed by a reset', () => {
  const f = classifyKubeadmFailure(
    1,
    fixture('preflight-reinit-1.28.stdout.txt'),
    fixture('preflight-reinit-1.28.stderr.txt'),
  );
  check(f, 'preflight', true);
  assert.deepEqual(f.preflightErrors, [
    'Port-6443',
    'Port-10259',
    'Port-10257',
    'FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml',
    'FileAvailable--etc-kubernetes-manifests-kube-controller-manager.yaml',
    'FileAvailable--etc-kubernetes-manifests-kube-scheduler.yaml',
    'FileAvailable--etc-kubernetes-manifests-etcd.yaml',
    'Port-10250',
    'Port-2379',
    'Port-2380',
    'DirAvailable--var-lib-etcd',
  ]);
  assert.equal(alreadyDoneBy(f), true);
  assert.match(f.summary, /an earlier kubeadm init\/join left its files on the node/);
});

test('re-join worker: files of an earlier join, healed by a reset', () => {
  const f = classifyKubeadmFailure(
    1,
    '[preflight] Running pre-flight checks\n',
    fixture('preflight-rejoin-worker.stderr.txt'),
  );
  check(f, 'preflight', true);
  assert.deepEqual(f.preflightErrors, [
    'FileAvailable--etc-kubernetes-kubelet.conf',
    'Port-10250',
    'FileAvailable--etc-kubernetes-pki-ca.crt',
  ]);
  assert.equal(alreadyDoneBy(f), true);
});

test('preflight errors that are not "already done"', () => {
  for (const [file, names] of [
    ['preflight-small-node.stderr.txt', ['NumCPU', 'Mem']],
    ['preflight-not-root.stderr.txt', ['IsPrivilegedUser']],
    ['preflight-port-only.stderr.txt', ['Port-6443']],
    ['preflight-swap-1.22.stderr.txt', ['Swap']],
  ] as const) {
    const f = classifyKubeadmFailure(1, '', fixture(file));
    check(f, 'preflight', false);
    assert.deepEqual(f.preflightErrors, names);
    assert.equal(alreadyDoneBy(f), false, file);
    assert.match(f.summary, /--ignore-preflight-errors/);
  }
  assert.match(
    classifyKubeadmFailure(1, '', fixture('preflight-small-node.stderr.txt')).summary,
    /NumCPU \(the number of available CPUs 1/,
  );
});

test('control-plane join without shared certificates', () => {
  for (const file of ['cp-join-missing-certs.stderr.txt', 'cp-join-missing-certs-old.stderr.txt']) {
    const f = classifyKubeadmFailure(1, '', fixture(file));
    check(f, 'missing-shared-certs', false);
    assert.match(f.summary, /\/etc\/kubernetes\/pki\/ca\.crt/);
    assert.equal(alreadyDoneBy(f), false);
  }
  assert.match(
    classifyKubeadmFailure(1, '', fixture('cp-join-missing-certs.stderr.txt')).summary,
    /sa\.key.*front-proxy-ca\.crt.*etcd\/ca\.crt/,
  );
});

test('control-plane join without controlPlaneEndpoint (new and old wording)', () => {
  check(classifyKubeadmFailure(1, '', fixture('cp-join-no-endpoint.stderr.txt')), 'no-control-plane-endpoint', false);
  check(
    classifyKubeadmFailure(1, '', fixture('cp-join-no-endpoint-old.stderr.txt')),
    'no-control-plane-endpoint',
    false,
  );
});

test('discovery failures', () => {
  check(classifyKubeadmFailure(1, '', fixture('join-token-unknown.stderr.txt')), 'discovery-token', false);
  const hash = classifyKubeadmFailure(1, '', fixture('join-ca-hash-mismatch.stderr.txt'));
  check(hash, 'discovery-ca-hash', false);
  assert.match(
    hash.summary,
    /The CA hash given to kubeadm \(--discovery-token-ca-cert-hash\) is malformed or does not match/,
  );
  check(classifyKubeadmFailure(1, '', fixture('join-bad-hash-format.stderr.txt')), 'discovery-ca-hash', false);
  for (const file of ['join-refused.stderr.txt', 'join-deadline.stderr.txt', 'join-client-timeout-old.stderr.txt']) {
    check(classifyKubeadmFailure(1, '', fixture(file)), 'discovery-unreachable', true);
  }
  assert.match(classifyKubeadmFailure(1, '', fixture('join-refused.stderr.txt')).summary, /connection refused/);
});

test('certificate key / kubeadm-certs Secret failures', () => {
  const expired = classifyKubeadmFailure(1, '', fixture('join-certs-secret-expired.stderr.txt'));
  check(expired, 'certificate-key', false);
  assert.match(expired.summary, /upload-certs/);
  check(classifyKubeadmFailure(1, '', fixture('join-certs-wrong-key.stderr.txt')), 'certificate-key', false);
});

test('config errors need an operator', () => {
  const mixed = classifyKubeadmFailure(1, '', fixture('init-mixed-config.stderr.txt'));
  check(mixed, 'config-invalid', false);
  assert.match(mixed.summary, /\[certificate-key\]/);
  check(classifyKubeadmFailure(1, '', fixture('join-mixed-config.stderr.txt')), 'config-invalid', false);
  check(classifyKubeadmFailure(1, '', fixture('unknown-flag.stderr.txt')), 'config-invalid', false);
});

test('transient failures a reset heals: wait-control-plane, kubelet-start, etcd join, a killed kubeadm', () => {
  const w = classifyKubeadmFailure(1, '', fixture('init-wait-control-plane.stderr.txt'));
  check(w, 'wait-control-plane', true);
  assert.match(w.summary, /wait-control-plane/);
  check(classifyKubeadmFailure(null, '', ''), 'incomplete', true);
  // kubeadm cmd/kubeadm/app/cmd/phases/join/kubelet.go: the crisocket upload after the TLS bootstrap.
  const crisocket = classifyKubeadmFailure(
    1,
    '',
    'error execution phase kubelet-start: error uploading crisocket: timed out waiting for the condition\nTo see the stack trace of this error execute with --v=5 or higher\n',
  );
  check(crisocket, 'kubelet-start', true);
  assert.match(
    crisocket.summary,
    /kubelet-start did not finish \(error uploading crisocket: timed out waiting for the condition\)/,
  );
  assert.doesNotMatch(
    crisocket.summary,
    /wait-control-plane/,
    'a worker join is not a control plane that failed to come up',
  );
  const etcd = classifyKubeadmFailure(
    1,
    '',
    'error execution phase control-plane-join/etcd: error creating local etcd static pod manifest file: etcdserver: re-configuration failed due to not enough started members\n',
  );
  check(etcd, 'etcd-join', true);
  assert.match(etcd.summary, /not enough started members/);
});

test('an unknown failure needs an operator, and its text is redacted', () => {
  const other = classifyKubeadmFailure(
    1,
    '',
    `error execution phase addon/coredns: token ${TOKEN} and key ${KEY} failed\nTo see the stack trace of this error execute with --v=5 or higher\n`,
  );
  check(other, 'unknown', false);
  assert.match(other.summary, /token \*\*\* and key \*\*\* failed/);
  assert.doesNotMatch(other.summary, new RegExp(`${TOKEN}|${KEY}`));
});
