// The external-etcd guide's per-member config, commands and etcdctl output, per config API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  clientURL,
  etcdMemberCommand,
  externalEtcdConfig,
  kubeletEtcdFiles,
  memberEtcdctl,
  parseEndpointHealth,
  peerURL,
  renderEtcdMemberConfig,
} from '../../src/kubeadm/external-etcd';

const members = ['etcd1', 'etcd2', 'etcd3'].map((name, i) => ({ name, address: `10.0.2.${i + 1}`, port: 22 }));
const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS());

describe('external etcd (kubeadm guide "Set up a High Availability etcd cluster with kubeadm")', () => {
  it("v1beta4 (1.31+): the member's SANs and the new-cluster flags as a list of name/value", () => {
    const [init, cluster] = docs(renderEtcdMemberConfig('v1.37.2', members[1], members));
    assert.deepEqual(init, {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'InitConfiguration',
      nodeRegistration: { name: 'etcd2' },
      localAPIEndpoint: { advertiseAddress: '10.0.2.2' },
    });
    assert.equal(cluster.kind, 'ClusterConfiguration');
    assert.equal(cluster.kubernetesVersion, 'v1.37.2');
    assert.deepEqual(cluster.etcd.local.serverCertSANs, ['10.0.2.2']);
    assert.deepEqual(cluster.etcd.local.peerCertSANs, ['10.0.2.2']);
    assert.deepEqual(cluster.etcd.local.extraArgs, [
      {
        name: 'initial-cluster',
        value: 'etcd1=https://10.0.2.1:2380,etcd2=https://10.0.2.2:2380,etcd3=https://10.0.2.3:2380',
      },
      { name: 'initial-cluster-state', value: 'new' },
      { name: 'name', value: 'etcd2' },
      { name: 'listen-peer-urls', value: 'https://10.0.2.2:2380' },
      { name: 'listen-client-urls', value: 'https://10.0.2.2:2379' },
      { name: 'advertise-client-urls', value: 'https://10.0.2.2:2379' },
      { name: 'initial-advertise-peer-urls', value: 'https://10.0.2.2:2380' },
    ]);
  });

  for (const [version, api] of [
    ['v1.13.5', 'v1beta1'],
    ['v1.18.20', 'v1beta2'],
    ['v1.30.14', 'v1beta3'],
  ]) {
    it(`${api} (${version}): extraArgs is a map`, () => {
      const [init, cluster] = docs(renderEtcdMemberConfig(version, members[0], members));
      assert.equal(init.apiVersion, `kubeadm.k8s.io/${api}`);
      assert.equal(cluster.apiVersion, `kubeadm.k8s.io/${api}`);
      assert.equal(cluster.etcd.local.extraArgs.name, 'etcd1');
      assert.equal(cluster.etcd.local.extraArgs['initial-cluster-state'], 'new');
      assert.equal(cluster.etcd.local.extraArgs['listen-client-urls'], 'https://10.0.2.1:2379');
    });
  }

  it("the guide's static-pod kubelet, with the cluster's kubeletConfiguration fields in place of the guide's", () => {
    const [config, dropin] = kubeletEtcdFiles();
    const guide = parseAllDocuments(config.content)[0].toJS();
    assert.equal(config.path, '/etc/systemd/system/kubelet.service.d/kubelet.conf');
    assert.deepEqual(
      [guide.kind, guide.cgroupDriver, guide.staticPodPath, guide.authorization.mode],
      ['KubeletConfiguration', 'systemd', '/etc/kubernetes/manifests', 'AlwaysAllow'],
    );
    assert.match(
      dropin.content,
      /^ExecStart=\nExecStart=\/usr\/bin\/kubelet --config=\/etc\/systemd\/system\/kubelet\.service\.d\/kubelet\.conf$/m,
    );
    const cgroupfs = parseAllDocuments(
      kubeletEtcdFiles({ cgroupDriver: 'cgroupfs', failCgroupV1: false })[0].content,
    )[0].toJS();
    assert.deepEqual({ ...cgroupfs }, { ...guide, cgroupDriver: 'cgroupfs', failCgroupV1: false });
  });

  it('refuses a member without an IP address, and brackets IPv6 in URLs', () => {
    assert.throws(
      () => renderEtcdMemberConfig('v1.37.2', { name: 'e', address: 'e.example.com' }, members),
      /etcd host e address: "e\.example\.com" is not an IP address/,
    );
    assert.equal(clientURL('fd00::7'), 'https://[fd00::7]:2379');
    assert.equal(peerURL('10.0.0.1'), 'https://10.0.0.1:2380');
  });

  it('the member command restarts the kubelet, makes the four certificates, then the static pod', () => {
    assert.equal(
      etcdMemberCommand('/var/lib/kubeadm-ha/etcd.yaml'),
      [
        'systemctl daemon-reload',
        'systemctl restart kubelet',
        "kubeadm init phase certs etcd-server --config '/var/lib/kubeadm-ha/etcd.yaml'",
        "kubeadm init phase certs etcd-peer --config '/var/lib/kubeadm-ha/etcd.yaml'",
        "kubeadm init phase certs etcd-healthcheck-client --config '/var/lib/kubeadm-ha/etcd.yaml'",
        "kubeadm init phase certs apiserver-etcd-client --config '/var/lib/kubeadm-ha/etcd.yaml'",
        "kubeadm init phase etcd local --config '/var/lib/kubeadm-ha/etcd.yaml'",
      ].join(' && '),
    );
    assert.match(
      memberEtcdctl(members, ['endpoint', 'health']),
      /^ETCDCTL_API=3 etcdctl '--endpoints=https:\/\/10\.0\.2\.1:2379,https:\/\/10\.0\.2\.2:2379,https:\/\/10\.0\.2\.3:2379' --cacert=\/etc\/kubernetes\/pki\/etcd\/ca\.crt --cert=\/etc\/kubernetes\/pki\/etcd\/healthcheck-client\.crt --key=\/etc\/kubernetes\/pki\/etcd\/healthcheck-client\.key 'endpoint' 'health'$/,
    );
    assert.deepEqual(externalEtcdConfig(['https://10.0.2.1:2379']), {
      external: {
        endpoints: ['https://10.0.2.1:2379'],
        caFile: '/etc/kubernetes/pki/etcd/ca.crt',
        certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
        keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key',
      },
    });
  });

  it('reads etcdctl endpoint health, healthy on stdout and unhealthy on stderr', () => {
    const out =
      'https://10.0.2.1:2379 is healthy: successfully committed proposal: took = 2.046ms\n' +
      'https://10.0.2.3:2379 is unhealthy: failed to commit proposal: context deadline exceeded\nError: unhealthy cluster\n';
    assert.deepEqual(parseEndpointHealth(out), [
      { endpoint: 'https://10.0.2.1:2379', healthy: true, detail: 'successfully committed proposal: took = 2.046ms' },
      {
        endpoint: 'https://10.0.2.3:2379',
        healthy: false,
        detail: 'failed to commit proposal: context deadline exceeded',
      },
    ]);
  });
});
