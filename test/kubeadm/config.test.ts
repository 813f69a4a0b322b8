import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import {
  renderInitConfig,
  renderJoinConfig,
  type InitConfigInput,
  type JoinConfigInput,
} from '../../src/kubeadm/config';

const HASH = 'sha256:8817bb69522a72618241f20adfede139743f48403367cec3f4144b43f918b97d';
const KEY = 'f9ea00c50ef12a386949dfb84b3abb2aa1053cc84f3792cd4b8aa6cc42c1fd57';
const TOKEN = '38tjlt.ibkwbtflmj6w8qmg';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML documents of any kind
function docs(yamlText: string): any[] {
  const parsed = parseAllDocuments(yamlText);
  for (const d of parsed) assert.equal(d.errors.length, 0, String(d.errors));
  return parsed.map((d) => d.toJS());
}

function initInput(version: string, extra: Partial<InitConfigInput> = {}): InitConfigInput {
  return {
    kubernetesVersion: version,
    nodeName: 'cp0',
    advertiseAddress: '10.0.0.6',
    controlPlaneEndpoint: 'lb.example.com:6443',
    certSANs: ['lb.example.com'],
    podSubnet: '192.168.0.0/16',
    ...extra,
  };
}

function joinInput(version: string, extra: Partial<JoinConfigInput> = {}): JoinConfigInput {
  return {
    kubernetesVersion: version,
    nodeName: 'w0',
    apiServerEndpoint: 'lb.example.com:6443',
    token: TOKEN,
    caCertHashes: [HASH],
    ...extra,
  };
}

test('init config for 1.13 matches the seed page fields (v1beta1)', () => {
  const [init, cluster] = docs(renderInitConfig(initInput('1.13.5')));
  assert.deepEqual(init, {
    apiVersion: 'kubeadm.k8s.io/v1beta1',
    kind: 'InitConfiguration',
    nodeRegistration: { name: 'cp0' },
    localAPIEndpoint: { advertiseAddress: '10.0.0.6', bindPort: 6443 },
  });
  assert.deepEqual(cluster, {
    apiVersion: 'kubeadm.k8s.io/v1beta1',
    kind: 'ClusterConfiguration',
    kubernetesVersion: 'v1.13.5',
    controlPlaneEndpoint: 'lb.example.com:6443',
    apiServer: { certSANs: ['lb.example.com'] },
    networking: { podSubnet: '192.168.0.0/16' },
  });
});

test('init config apiVersion per release, with service subnet, bind port and external etcd', () => {
  for (const [v, api] of [
    ['v1.15.0', 'v1beta2'],
    ['v1.28.2', 'v1beta3'],
    ['v1.33.0', 'v1beta4'],
  ]) {
    const out = renderInitConfig(
      initInput(v, {
        bindPort: 8443,
        serviceSubnet: '10.96.0.0/12',
        certSANs: ['lb.example.com', '10.0.0.100', 'lb.example.com'],
        etcd: {
          external: {
            endpoints: ['https://10.0.0.11:2379', 'https://10.0.0.12:2379', 'https://10.0.0.13:2379'],
            caFile: '/etc/kubernetes/pki/etcd/ca.crt',
            certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
            keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key',
          },
        },
      }),
    );
    const [init, cluster] = docs(out);
    assert.equal(init.apiVersion, `kubeadm.k8s.io/${api}`);
    assert.equal(cluster.apiVersion, `kubeadm.k8s.io/${api}`);
    assert.equal(init.localAPIEndpoint.bindPort, 8443);
    assert.equal(init.certificateKey, undefined);
    assert.equal(cluster.kubernetesVersion, v);
    assert.deepEqual(cluster.apiServer.certSANs, ['lb.example.com', '10.0.0.100']);
    assert.deepEqual(cluster.networking, { podSubnet: '192.168.0.0/16', serviceSubnet: '10.96.0.0/12' });
    assert.equal(cluster.etcd.external.endpoints.length, 3);
    assert.equal(cluster.etcd.external.keyFile, '/etc/kubernetes/pki/apiserver-etcd-client.key');
    assert.equal(cluster.etcd.local, undefined);
    assert.equal(cluster.apiServer.extraArgs, undefined); // no extraArgs rendered (v1beta4 would need list form)
  }
});

test('init certificateKey only from v1beta2 on', () => {
  const [init] = docs(renderInitConfig(initInput('1.22.0', { certificateKey: KEY })));
  assert.equal(init.certificateKey, KEY);
  assert.throws(
    () => renderInitConfig(initInput('1.14.0', { certificateKey: KEY })),
    /^Error: certificateKey: kubeadm\.k8s\.io\/v1beta1/,
  );
});

test('init input validation names the field', () => {
  const bad: Array<[Partial<InitConfigInput>, RegExp]> = [
    [{ kubernetesVersion: '1.12.5' }, /^Error: kubernetesVersion: .*not supported/],
    [{ kubernetesVersion: 'stable' }, /^Error: kubernetesVersion: invalid/],
    [{ controlPlaneEndpoint: 'lb.example.com' }, /^Error: controlPlaneEndpoint: /],
    [{ controlPlaneEndpoint: 'lb.example.com:70000' }, /^Error: controlPlaneEndpoint: .*port/],
    [{ advertiseAddress: 'cp0.example.com' }, /^Error: advertiseAddress: .*not an IP/],
    [{ nodeName: 'CP_0' }, /^Error: nodeName: /],
    [{ podSubnet: '192.168.0.0' }, /^Error: podSubnet: /],
    [{ certSANs: ['bad name'] }, /^Error: certSANs\[0\]: /],
    [{ bindPort: 0 }, /^Error: bindPort: /],
    [
      { etcd: { external: { endpoints: ['10.0.0.11:2379'], caFile: '/a', certFile: '/b', keyFile: '/c' } } },
      /^Error: etcd\.external\.endpoints\[0\]: /,
    ],
  ];
  for (const [patch, re] of bad)
    assert.throws(() => renderInitConfig(initInput('1.28.0', patch)), re, JSON.stringify(patch));
  // IPv6 endpoint and dual-stack subnet are fine
  const [, cluster] = docs(
    renderInitConfig(
      initInput('1.28.0', { controlPlaneEndpoint: '[fd00::10]:6443', podSubnet: '10.244.0.0/16,fd00:10:244::/56' }),
    ),
  );
  assert.equal(cluster.controlPlaneEndpoint, '[fd00::10]:6443');
});

test('worker join config (v1beta1 and v1beta4)', () => {
  for (const [v, api] of [
    ['1.13.5', 'v1beta1'],
    ['1.31.4', 'v1beta4'],
  ]) {
    const [join, more] = docs(renderJoinConfig(joinInput(v)));
    assert.equal(more, undefined);
    assert.deepEqual(join, {
      apiVersion: `kubeadm.k8s.io/${api}`,
      kind: 'JoinConfiguration',
      discovery: { bootstrapToken: { apiServerEndpoint: 'lb.example.com:6443', token: TOKEN, caCertHashes: [HASH] } },
      nodeRegistration: { name: 'w0' },
    });
  }
});

test('control-plane join is expressed in the file (no --control-plane flag with --config)', () => {
  const [j13] = docs(
    renderJoinConfig(joinInput('1.13.5', { nodeName: 'cp1', controlPlane: { advertiseAddress: '10.0.0.7' } })),
  );
  assert.deepEqual(j13.controlPlane, { localAPIEndpoint: { advertiseAddress: '10.0.0.7', bindPort: 6443 } });
  assert.equal('certificateKey' in j13.controlPlane, false);

  for (const [v, api] of [
    ['1.15.0', 'v1beta2'],
    ['1.30.0', 'v1beta3'],
    ['1.34.0', 'v1beta4'],
  ]) {
    const [j] = docs(
      renderJoinConfig(
        joinInput(v, {
          nodeName: 'cp1',
          controlPlane: { advertiseAddress: '10.0.0.7', bindPort: 6443, certificateKey: KEY },
        }),
      ),
    );
    assert.equal(j.apiVersion, `kubeadm.k8s.io/${api}`);
    assert.deepEqual(j.controlPlane, {
      localAPIEndpoint: { advertiseAddress: '10.0.0.7', bindPort: 6443 },
      certificateKey: KEY,
    });
  }
});

test('certificateKey on v1beta1 is refused', () => {
  assert.throws(
    () =>
      renderJoinConfig(joinInput('1.14.3', { controlPlane: { advertiseAddress: '10.0.0.7', certificateKey: KEY } })),
    /^Error: controlPlane\.certificateKey: kubeadm\.k8s\.io\/v1beta1 .*manually/,
  );
});

test('join input validation names the field and never echoes secrets', () => {
  assert.throws(
    () => renderJoinConfig(joinInput('1.28.0', { token: 'ABCDEF.0123456789abcdef' })),
    (e: Error) => e.message.startsWith('token: ') && !e.message.includes('ABCDEF'),
  );
  assert.throws(
    () =>
      renderJoinConfig(
        joinInput('1.28.0', { caCertHashes: ['84938d2a22203a8e56a787ec0c6ddad7bc7dbd52ebabc62fd5f4dbea72b14d1f'] }),
      ),
    /^Error: caCertHashes\[0\]: .*sha256:/,
  );
  assert.throws(() => renderJoinConfig(joinInput('1.28.0', { caCertHashes: [] })), /^Error: caCertHashes: /);
  assert.throws(
    () => renderJoinConfig(joinInput('1.28.0', { apiServerEndpoint: 'https://lb:6443' })),
    /^Error: apiServerEndpoint: /,
  );
  assert.throws(
    () =>
      renderJoinConfig(
        joinInput('1.28.0', { controlPlane: { advertiseAddress: '10.0.0.7', certificateKey: 'zz' + KEY.slice(2) } }),
      ),
    (e: Error) => e.message.startsWith('controlPlane.certificateKey: ') && !e.message.includes(KEY.slice(2)),
  );
  assert.throws(
    () => renderJoinConfig(joinInput('1.28.0', { controlPlane: { advertiseAddress: 'cp1' } })),
    /^Error: controlPlane\.advertiseAddress: /,
  );
});

test('upper-case hash is normalised to lower case', () => {
  const [j] = docs(
    renderJoinConfig(joinInput('1.28.0', { caCertHashes: [HASH.toUpperCase().replace('SHA256', 'sha256')] })),
  );
  assert.deepEqual(j.discovery.bootstrapToken.caCertHashes, [HASH]);
});

// Every minor we drive, against the config API pages on kubernetes.io
// (docs/reference/config-api/kubeadm-config.v1beta{1..4}/ and, for v1beta1/v1beta2, the godoc of
// k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta{1,2}): which apiVersion a release reads, the
// APIEndpoint shape, certificateKey from v1beta2 on, extraArgs a map before v1beta4, a list after.
const API_BY_MINOR: Array<[number, number, string]> = [
  [13, 14, 'v1beta1'],
  [15, 21, 'v1beta2'],
  [22, 30, 'v1beta3'],
  [31, 37, 'v1beta4'],
];

for (const [from, to, api] of API_BY_MINOR) {
  for (let minor = from; minor <= to; minor++) {
    test(`1.${minor}: ${api} init and join documents`, () => {
      const version = `v1.${minor}.3`;
      const apiVersion = `kubeadm.k8s.io/${api}`;
      const withKey = api !== 'v1beta1';
      const [init, cluster] = docs(
        renderInitConfig(
          initInput(version, {
            apiServerExtraArgs: { 'audit-log-maxage': '30', profiling: 'false' },
            ...(withKey ? { certificateKey: KEY } : {}),
          }),
        ),
      );
      assert.deepEqual(init, {
        apiVersion,
        kind: 'InitConfiguration',
        nodeRegistration: { name: 'cp0' },
        localAPIEndpoint: { advertiseAddress: '10.0.0.6', bindPort: 6443 },
        ...(withKey ? { certificateKey: KEY } : {}),
      });
      const extraArgs =
        api === 'v1beta4'
          ? [
              { name: 'audit-log-maxage', value: '30' },
              { name: 'profiling', value: 'false' },
            ]
          : { 'audit-log-maxage': '30', profiling: 'false' };
      assert.deepEqual(cluster, {
        apiVersion,
        kind: 'ClusterConfiguration',
        kubernetesVersion: version,
        controlPlaneEndpoint: 'lb.example.com:6443',
        apiServer: { certSANs: ['lb.example.com'], extraArgs },
        networking: { podSubnet: '192.168.0.0/16' },
      });

      const [join] = docs(
        renderJoinConfig(
          joinInput(version, {
            nodeName: 'cp1',
            controlPlane: { advertiseAddress: '10.0.0.7', ...(withKey ? { certificateKey: KEY } : {}) },
          }),
        ),
      );
      assert.deepEqual(join, {
        apiVersion,
        kind: 'JoinConfiguration',
        discovery: { bootstrapToken: { apiServerEndpoint: 'lb.example.com:6443', token: TOKEN, caCertHashes: [HASH] } },
        nodeRegistration: { name: 'cp1' },
        controlPlane: {
          localAPIEndpoint: { advertiseAddress: '10.0.0.7', bindPort: 6443 },
          ...(withKey ? { certificateKey: KEY } : {}),
        },
      });
    });
  }
}

test('apiServerExtraArgs: flag names without "--", empty map renders nothing', () => {
  assert.throws(
    () => renderInitConfig(initInput('1.31.0', { apiServerExtraArgs: { '--profiling': 'false' } })),
    /^Error: apiServerExtraArgs: "--profiling" is not a flag name/,
  );
  const [, cluster] = docs(renderInitConfig(initInput('1.31.0', { apiServerExtraArgs: {} })));
  assert.deepEqual(cluster.apiServer, { certSANs: ['lb.example.com'] });
});

test('kubeadm options: named preflight checks and a patches directory reach init and join (never "all")', () => {
  const kubeadm = { ignorePreflightErrors: ['SystemVerification', 'Swap'], patches: '/etc/kubeadm-ha-fleet/patches' };
  const [init] = docs(renderInitConfig(initInput('1.37.2', { kubeadm })));
  assert.deepEqual(init.nodeRegistration, { name: 'cp0', ignorePreflightErrors: ['SystemVerification', 'Swap'] });
  assert.deepEqual(init.patches, { directory: '/etc/kubeadm-ha-fleet/patches' });
  const [join] = docs(renderJoinConfig(joinInput('1.37.2', { kubeadm })));
  assert.deepEqual(join.nodeRegistration, { name: 'w0', ignorePreflightErrors: ['SystemVerification', 'Swap'] });
  assert.deepEqual(join.patches, { directory: '/etc/kubeadm-ha-fleet/patches' });
  // Empty options render nothing, as before the section existed.
  assert.deepEqual(
    docs(renderInitConfig(initInput('1.37.2', { kubeadm: { ignorePreflightErrors: [] } })))[0].nodeRegistration,
    { name: 'cp0' },
  );
  assert.throws(
    () => renderInitConfig(initInput('1.37.2', { kubeadm: { ignorePreflightErrors: ['all'] } })),
    /^Error: kubeadm\.ignorePreflightErrors\[0\]: "all" is not one preflight check's name/,
  );
  assert.throws(
    () => renderJoinConfig(joinInput('1.14.3', { kubeadm: { ignorePreflightErrors: ['Swap'] } })),
    /v1beta1 .* has no nodeRegistration\.ignorePreflightErrors/,
  );
  assert.throws(
    () => renderJoinConfig(joinInput('1.21.3', { kubeadm: { patches: '/p' } })),
    /kubeadm\.patches: kubeadm\.k8s\.io\/v1beta2 has no patches/,
  );
  assert.throws(
    () => renderJoinConfig(joinInput('1.37.2', { kubeadm: { patches: 'relative/p' } })),
    /kubeadm\.patches/,
  );
});

test('kubeletConfiguration and kubeProxyConfiguration: their fields become the component documents of the init config', () => {
  const docsOut = docs(
    renderInitConfig(initInput('1.37.2', { kubeletConfiguration: { cgroupDriver: 'cgroupfs', failCgroupV1: false } })),
  );
  assert.equal(docsOut.length, 3);
  assert.deepEqual(docsOut[2], {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
  });
  assert.equal(
    docs(renderInitConfig(initInput('1.37.2', { kubeletConfiguration: {} }))).length,
    2,
    'an empty map renders no document',
  );
  assert.throws(
    () => renderInitConfig(initInput('1.37.2', { kubeletConfiguration: { kind: 'X' } })),
    /kubeletConfiguration: give its fields only/,
  );
  const withProxy = docs(
    renderInitConfig(
      initInput('1.36.3', {
        kubeletConfiguration: { cgroupDriver: 'cgroupfs' },
        kubeProxyConfiguration: { conntrack: { maxPerCore: 0 } },
      }),
    ),
  );
  assert.deepEqual(withProxy[3], {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    conntrack: { maxPerCore: 0 },
  });
});
