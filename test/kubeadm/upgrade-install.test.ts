// The upgrade's own commands: the page's apt sequence, dl.k8s.io's .sha256 files, the backup
// before a hop, the worker batch, and the Node's status as kubectl prints it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  apiServerReadyCommand,
  aptInstallCommand,
  backupCommand,
  binaryInFolder,
  parseNodeStatus,
  parseSha256File,
  parseSha256sum,
  workerBatchSize,
} from '../../src/kubeadm/upgrade-install';
import { redact } from '../../src/common/redact';

const D = 'a'.repeat(64);

describe('upgrade-install', () => {
  it('installs packages as the upgrade page does: unhold, the exact version, hold again', () => {
    assert.equal(
      aptInstallCommand(['kubelet', 'kubectl'], 'v1.37.2'),
      "apt-mark unhold kubelet kubectl && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y kubelet='1.37.2-*' kubectl='1.37.2-*' && apt-mark hold kubelet kubectl",
    );
  });

  it("reads dl.k8s.io's .sha256 (the digest alone) and sha256sum's line; refuses anything else", () => {
    assert.equal(parseSha256File(`${D}\n`, 'f'), D);
    assert.equal(parseSha256File(`${D.toUpperCase()}  kubeadm\n`, 'f'), D);
    assert.throws(
      () => parseSha256File('not a digest', 'x/kubeadm.sha256'),
      /x\/kubeadm\.sha256: not a SHA-256 digest/,
    );
    assert.equal(binaryInFolder('/srv/k8s/', '1.37.2', 'kubeadm'), '/srv/k8s/v1.37.2/kubeadm');
  });

  it('backs up through the etcd pod when stacked, with the host etcdctl on an etcd host, and pki and manifests always', () => {
    const stacked = backupCommand('v1.37.2', { stackedNode: 'cp1' });
    assert.match(stacked, /^set -e\numask 077\nrm -rf '\/var\/lib\/kubeadm-ha\/backups\/v1\.37\.2'\n/);
    assert.match(
      stacked,
      /exec 'etcd-cp1' -- etcdctl .* 'snapshot' 'save' '\/var\/lib\/etcd\/kubeadm-ha-snapshot\.db'/,
    );
    assert.match(stacked, /tar -C \/etc\/kubernetes -czf .*pki-and-manifests\.tar\.gz' pki manifests/);
    assert.match(stacked, /sha256sum etcd-snapshot\.db pki-and-manifests\.tar\.gz \| sed 's\/\^\/sha256:\/'$/);
    const etcdHost = backupCommand('v1.37.2', { etcdHost: '10.0.0.41' }, false);
    assert.doesNotMatch(
      etcdHost,
      /tar /,
      "an etcd host's run archives nothing: pki and manifests are the control plane's",
    );
    assert.match(etcdHost, /sha256sum etcd-snapshot\.db \| sed/);
    assert.match(
      backupCommand('v1.37.2', { etcdHost: '10.0.0.41' }),
      /etcdctl --endpoints='https:\/\/10\.0\.0\.41:2379' .* snapshot save/,
    );
    const none = backupCommand('v1.37.2', undefined);
    assert.doesNotMatch(none, /etcdctl/);
    assert.match(none, /sha256sum pki-and-manifests\.tar\.gz \| sed/);
    // Through the redactor, as the journal's output is: the sha256: prefix keeps the digests readable.
    assert.deepEqual(parseSha256sum(redact(`sha256:${D}  etcd-snapshot.db\nsha256:${D}  pki-and-manifests.tar.gz\n`)), {
      'etcd-snapshot.db': D,
      'pki-and-manifests.tar.gz': D,
    });
  });

  it('sizes a worker batch from a count or a percentage, at least one', () => {
    assert.equal(workerBatchSize(1, 10), 1);
    assert.equal(workerBatchSize(50, 10), 10);
    assert.equal(workerBatchSize('25%', 10), 3);
    assert.equal(workerBatchSize('1%', 10), 1);
    assert.equal(workerBatchSize('100%', 0), 1);
    assert.throws(() => workerBatchSize('0%', 10), /not a percentage/);
  });

  it("asks a control plane's own API server whether it is ready, against the cluster CA", () => {
    assert.equal(
      apiServerReadyCommand('10.0.0.7'),
      "curl -sS --max-time 5 --cacert /etc/kubernetes/pki/ca.crt 'https://10.0.0.7:6443/readyz'",
    );
    assert.match(apiServerReadyCommand('fd00::7'), /'https:\/\/\[fd00::7\]:6443\/readyz'$/);
  });

  it("reads the Node's kubelet version, Ready and cordon", () => {
    assert.deepEqual(parseNodeStatus('v1.37.2 True true'), { kubeletVersion: 'v1.37.2', ready: true, cordoned: true });
    assert.deepEqual(parseNodeStatus('v1.36.3 False '), { kubeletVersion: 'v1.36.3', ready: false, cordoned: false });
    assert.equal(parseNodeStatus(''), undefined);
  });
});
