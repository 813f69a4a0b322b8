import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caCertHashCommand, parseCaCertHash, sharedControlPlaneFiles } from '../../src/kubeadm/certs';
import { parseKubeVersion } from '../../src/kubeadm/version';

const v113 = parseKubeVersion('v1.13.5');
const v128 = parseKubeVersion('v1.28.2');
const P = '/etc/kubernetes/pki/';

test('stacked 1.13: the seed page list, admin.conf included', () => {
  const files = sharedControlPlaneFiles('stacked', v113);
  assert.deepEqual(
    files.map((f) => f.path),
    [
      `${P}ca.crt`,
      `${P}ca.key`,
      `${P}sa.key`,
      `${P}sa.pub`,
      `${P}front-proxy-ca.crt`,
      `${P}front-proxy-ca.key`,
      `${P}etcd/ca.crt`,
      `${P}etcd/ca.key`,
      '/etc/kubernetes/admin.conf',
    ],
  );
});

test('modes and secrecy: keys and admin.conf 0600, certs 0644', () => {
  for (const f of sharedControlPlaneFiles('stacked', v113)) {
    const secret = f.path.endsWith('.key') || f.path.endsWith('admin.conf');
    assert.equal(f.secret, secret, f.path);
    assert.equal(f.mode, secret ? 0o600 : 0o644, f.path);
  }
});

test('external etcd: no etcd/ca.key, adds apiserver-etcd-client pair', () => {
  const paths = sharedControlPlaneFiles('external', v128).map((f) => f.path);
  assert.ok(!paths.includes(`${P}etcd/ca.key`));
  assert.ok(paths.includes(`${P}etcd/ca.crt`));
  assert.ok(paths.includes(`${P}apiserver-etcd-client.crt`));
  assert.ok(paths.includes(`${P}apiserver-etcd-client.key`));
  assert.ok(paths.includes('/etc/kubernetes/admin.conf'), 'the seed copies admin.conf; kubeadm reuses a matching one');
  assert.ok(!paths.some((p) => /apiserver\.(crt|key)$/.test(p)), 'never copy per-node certificates');
});

test('caCertHashCommand is the key-type-agnostic pipeline', () => {
  assert.equal(
    caCertHashCommand(),
    "openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.* //'",
  );
  assert.equal(
    parseCaCertHash('8817bb69522a72618241f20adfede139743f48403367cec3f4144b43f918b97d\n'),
    'sha256:8817bb69522a72618241f20adfede139743f48403367cec3f4144b43f918b97d',
  );
  assert.throws(() => parseCaCertHash('unable to load certificate'), /64 hex/);
});
