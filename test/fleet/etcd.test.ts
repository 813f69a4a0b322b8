// External etcd hosts with real etcd: the fleet lets kubeadm's "Set up a High Availability etcd
// cluster with kubeadm" (kubernetes.io/docs/setup/production-environment/tools/kubeadm/
// setup-ha-etcd-with-kubeadm/) run by hand over SSH, then control planes use it with etcd.external.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetInfo, etcdAddress, fleetDown, fleetUp } from '../../fleet/index';
import { alive, hostPath, initConfig, joinConfig, put, ssh, waitFor } from './helpers';

const HINT = 'To see the stack trace of this error execute with --v=5 or higher\n';
const KUBECTL = 'sudo -n kubectl --kubeconfig /etc/kubernetes/admin.conf';
const PKI = '/etc/kubernetes/pki';
const CFG = '/var/lib/kubeadm-ha/kubeadmcfg.yaml';

/** The guide's per-host file (v1beta4: extraArgs as a list). */
function etcdConfig(name: string, host: string, all: Array<[string, string]>): string {
  const arg = (n: string, v: string): string => `        - name: ${n}\n          value: ${v}\n`;
  return `---
apiVersion: "kubeadm.k8s.io/v1beta4"
kind: InitConfiguration
nodeRegistration:
    name: ${name}
localAPIEndpoint:
    advertiseAddress: ${host}
---
apiVersion: "kubeadm.k8s.io/v1beta4"
kind: ClusterConfiguration
etcd:
    local:
        serverCertSANs:
        - "${host}"
        peerCertSANs:
        - "${host}"
        extraArgs:
${arg('initial-cluster', all.map(([n, h]) => `${n}=https://${h}:2380`).join(','))}${arg('initial-cluster-state', 'new')}${arg('name', name)}${arg('listen-peer-urls', `https://${host}:2380`)}${arg('listen-client-urls', `https://${host}:2379`)}${arg('advertise-client-urls', `https://${host}:2379`)}${arg('initial-advertise-peer-urls', `https://${host}:2380`)}`;
}

const DROPIN_CONFIG = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
cgroupDriver: systemd
address: 127.0.0.1
containerRuntimeEndpoint: unix:///var/run/containerd/containerd.sock
staticPodPath: /etc/kubernetes/manifests
`;
const DROPIN_SERVICE = `[Service]
ExecStart=
ExecStart=/usr/bin/kubelet --config=/etc/systemd/system/kubelet.service.d/kubelet.conf
Restart=always
`;

describe('external etcd hosts with real etcd', { timeout: 300000 }, () => {
  let dir = '';
  let info: FleetInfo;
  let etcd: Array<[string, string]> = [];
  let [CP1, CP2, W1, LB] = ['', '', '', ''];
  const addr = (name: string): string => info.hosts.find((h) => h.name === name)!.address;
  const etcdctl = (host: string, endpoints: string, args: string): ReturnType<typeof ssh> =>
    ssh(
      dir,
      addr(host),
      `sudo -n env ETCDCTL_API=3 etcdctl --dial-timeout=2s --command-timeout=3s --cacert ${PKI}/etcd/ca.crt --cert ${PKI}/etcd/healthcheck-client.crt --key ${PKI}/etcd/healthcheck-client.key --endpoints ${endpoints} ${args}`,
    );
  const endpoints = (): string => etcd.map(([, h]) => `https://${h}:2379`).join(',');
  const etcdPid = (host: string): number =>
    parseInt(fs.readFileSync(path.join(dir, 'hosts', host, 'run', 'etcd.pid'), 'utf8'), 10);
  const tar = (from: string, files: string): string =>
    ssh(dir, addr(from), `sudo -n tar -C ${PKI} -cf - ${files} | base64 -w0`).stdout;
  const untar = (to: string, data: string): void =>
    assert.equal(
      ssh(dir, addr(to), `sudo -n mkdir -p ${PKI} && base64 -d | sudo -n tar -C ${PKI} -xf -`, { input: data }).code,
      0,
    );

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-etcd-'));
    info = await fleetUp({ dir, controlPlanes: 2, workers: 1, etcdHosts: 3 });
    etcd = ['etcd1', 'etcd2', 'etcd3'].map((n) => [n, addr(n)]);
    [CP1, CP2, W1] = ['cp1', 'cp2', 'w1'].map(addr);
    LB = info.loadBalancer.host;
  });

  after(async () => {
    await fleetDown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the etcd hosts in FleetInfo, fleet.json and the cluster file (external etcd on them)', () => {
    assert.deepEqual(
      info.hosts.filter((h) => h.role === 'etcd').map((h) => [h.name, h.address]),
      [1, 2, 3].map((i) => [`etcd${i}`, etcdAddress(info.slot, i)]),
    );
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'fleet.json'), 'utf8')) as FleetInfo;
    assert.equal(saved.hosts.filter((h) => h.role === 'etcd').length, 3);
    assert.match(
      fs.readFileSync(info.clusterFile, 'utf8'),
      new RegExp(
        `\ntopology: external\netcd:\n  hosts:\n    - \\{ name: etcd1, address: ${etcd[0][1].replace(/\./g, '\\.')} \\}\n`,
      ),
    );
    assert.equal(ssh(dir, etcd[1][1], 'hostname').stdout, 'etcd2\n');
  });

  it('systemctl fails like systemctl for unknown units and reports the kubelet', () => {
    let r = ssh(dir, etcd[0][1], 'sudo -n systemctl restart foo');
    assert.equal(r.code, 5);
    assert.equal(r.stderr, 'Failed to restart foo.service: Unit foo.service not found.\n');
    r = ssh(dir, etcd[0][1], 'sudo -n systemctl stop foo.service');
    assert.equal(r.code, 5);
    assert.equal(r.stderr, 'Failed to stop foo.service: Unit foo.service not loaded.\n');
    r = ssh(dir, etcd[0][1], 'systemctl is-active kubelet');
    assert.deepEqual([r.code, r.stdout], [3, 'inactive\n']);
    r = ssh(dir, etcd[0][1], 'systemctl restart kubelet');
    assert.equal(r.code, 1, 'not root');
    assert.ok(!fs.existsSync(path.join(dir, 'hosts/etcd1/run/kubelet.pid')));
  });

  it("an etcd cert phase without the etcd CA fails with kubeadm's text and writes nothing", () => {
    put(dir, etcd[0][1], CFG, etcdConfig('etcd1', etcd[0][1], etcd));
    const r = ssh(dir, etcd[0][1], `sudo -n kubeadm init phase certs etcd-server --config=${CFG}`);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error execution phase certs/etcd-server: couldn't load CA certificate etcd-ca: couldn't load etcd/ca certificate authority from ${PKI}\n${HINT}`,
    );
    assert.ok(!fs.existsSync(hostPath(dir, 'etcd1', `${PKI}/etcd/server.crt`)));
  });

  it('runs the guide: kubelet drop-in, etcd CA, member certs and manifests give three healthy members', async () => {
    for (const [name, host] of etcd) {
      put(dir, host, '/etc/systemd/system/kubelet.service.d/kubelet.conf', DROPIN_CONFIG);
      put(dir, host, '/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf', DROPIN_SERVICE);
      const r = ssh(
        dir,
        host,
        'sudo -n systemctl daemon-reload && sudo -n systemctl restart kubelet && systemctl is-active kubelet',
      );
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'active\n', ''], name);
      put(dir, host, CFG, etcdConfig(name, host, etcd));
    }
    let r = ssh(dir, etcd[0][1], 'sudo -n kubeadm init phase certs etcd-ca');
    assert.deepEqual([r.code, r.stdout], [0, '[certs] Generating "etcd/ca" certificate and key\n'], r.stderr);
    r = ssh(dir, etcd[0][1], 'sudo -n kubeadm init phase certs etcd-ca');
    assert.equal(r.stdout, '[certs] Using existing etcd/ca certificate authority\n');
    const ca = tar('etcd1', 'etcd/ca.crt etcd/ca.key');
    for (const [name, host] of etcd) {
      if (name !== 'etcd1') untar(name, ca);
      r = ssh(
        dir,
        host,
        ['etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'apiserver-etcd-client']
          .map((c) => `sudo -n kubeadm init phase certs ${c} --config=${CFG}`)
          .join(' && '),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        [
          '[certs] Generating "etcd/server" certificate and key',
          `[certs] etcd/server serving cert is signed for DNS names [${name} localhost] and IPs [${host} 127.0.0.1 ::1]`,
          '[certs] Generating "etcd/peer" certificate and key',
          `[certs] etcd/peer serving cert is signed for DNS names [${name} localhost] and IPs [${host} 127.0.0.1 ::1]`,
          '[certs] Generating "etcd/healthcheck-client" certificate and key',
          '[certs] Generating "apiserver-etcd-client" certificate and key',
          '',
        ].join('\n'),
      );
      r = ssh(
        dir,
        host,
        `sudo -n openssl verify -CAfile ${PKI}/etcd/ca.crt ${PKI}/etcd/server.crt ${PKI}/etcd/peer.crt ${PKI}/etcd/healthcheck-client.crt ${PKI}/apiserver-etcd-client.crt`,
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout.match(/: OK$/gm)?.length, 4);
      r = ssh(
        dir,
        host,
        `sudo -n openssl x509 -in ${PKI}/etcd/server.crt -noout -subject -ext subjectAltName,extendedKeyUsage`,
      );
      assert.match(r.stdout, new RegExp(`subject=CN ?= ?${name}\n`));
      assert.match(r.stdout, /TLS Web Server Authentication, TLS Web Client Authentication/);
      r = ssh(dir, host, `sudo -n kubeadm init phase etcd local --config=${CFG}`);
      assert.deepEqual(
        [r.code, r.stdout],
        [0, '[etcd] Creating static Pod manifest for local etcd in "/etc/kubernetes/manifests"\n'],
        r.stderr,
      );
    }
    const manifest = fs.readFileSync(hostPath(dir, 'etcd2', '/etc/kubernetes/manifests/etcd.yaml'), 'utf8');
    assert.match(
      manifest,
      new RegExp(
        `- --initial-cluster=etcd1=https://${etcd[0][1]}:2380,etcd2=https://${etcd[1][1]}:2380,etcd3=https://${etcd[2][1]}:2380\n`,
      ),
    );
    assert.match(manifest, new RegExp(`- --listen-client-urls=https://${etcd[1][1]}:2379\n`));
    assert.match(manifest, /- --experimental-initial-corrupt-check=true\n/);
    for (const [name, host] of etcd) {
      await waitFor(
        `${name} to be healthy`,
        () => etcdctl(name, `https://${host}:2379`, 'endpoint health').code === 0,
        60000,
      );
    }
    r = etcdctl('etcd1', endpoints(), 'endpoint health');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout + r.stderr).match(/is healthy: successfully committed proposal/g)?.length, 3);
    r = etcdctl('etcd2', `https://${etcd[1][1]}:2379`, 'member list');
    const members = r.stdout
      .trim()
      .split('\n')
      .sort((a, b) => a.split(', ')[2].localeCompare(b.split(', ')[2]));
    assert.equal(members.length, 3, r.stdout);
    etcd.forEach(([name, host], i) =>
      assert.match(
        members[i],
        new RegExp(`^[0-9a-f]{16}, started, ${name}, https://${host}:2380, https://${host}:2379, false$`),
      ),
    );
    // The real etcd, in the host's namespace: its data dir is the host's /var/lib/etcd.
    const pid = etcdPid('etcd1');
    assert.ok(alive(pid));
    assert.match(
      fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '),
      new RegExp(`^/usr/bin/etcd .*--name=etcd1 `),
    );
    assert.ok(fs.existsSync(hostPath(dir, 'etcd1', '/var/lib/etcd/member/wal')));
    assert.equal(fs.statSync(hostPath(dir, 'etcd1', '/var/lib/etcd/.')).mode & 0o777, 0o700);
  });

  it('the kubelet restarts a killed etcd', async () => {
    const old = etcdPid('etcd3');
    process.kill(old, 'SIGKILL');
    await waitFor(
      'a new etcd on etcd3',
      () => {
        try {
          const p = etcdPid('etcd3');
          return p !== old && alive(p);
        } catch {
          return false;
        }
      },
      20000,
    );
    await waitFor(
      'etcd3 to be healthy again',
      () => etcdctl('etcd3', `https://${etcd[2][1]}:2379`, 'endpoint health').code === 0,
      30000,
    );
  });

  it('control planes and a worker with etcd.external: Nodes and the bootstrap token live in etcd', () => {
    const initCfg = initConfig(
      CP1,
      LB,
      etcd.map(([, h]) => `https://${h}:2379`),
    );
    put(dir, CP1, '/var/lib/kubeadm-ha/kubeadm-config.yaml', initCfg);
    const INIT = 'sudo -n kubeadm init --config /var/lib/kubeadm-ha/kubeadm-config.yaml';
    let r = ssh(dir, CP1, INIT);
    assert.equal(r.code, 1);
    for (const f of ['etcd/ca.crt', 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key']) {
      assert.match(
        r.stderr,
        new RegExp(`\t\\[ERROR ExternalEtcdClientCertificates\\]: ${PKI}/${f.replace('.', '\\.')} doesn't exist\n`),
      );
    }
    const client = tar('etcd1', 'etcd/ca.crt apiserver-etcd-client.crt apiserver-etcd-client.key');
    untar('cp1', client);
    r = ssh(dir, CP1, INIT);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /\n\[certs\] External etcd mode: Skipping etcd\/ca certificate authority generation\n\[certs\] External etcd mode: Skipping etcd\/server certificate generation\n/,
    );
    assert.doesNotMatch(r.stdout, /\[etcd\]/);
    assert.ok(!fs.existsSync(hostPath(dir, 'cp1', '/etc/kubernetes/manifests/etcd.yaml')));
    assert.ok(!fs.existsSync(hostPath(dir, 'cp1', `${PKI}/etcd/ca.key`)));
    assert.match(
      fs.readFileSync(hostPath(dir, 'cp1', '/etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8'),
      new RegExp(`- --etcd-servers=${endpoints()}\n`),
    );
    const m = /--token (\S+) \\\n\t--discovery-token-ca-cert-hash (sha256:[a-f0-9]{64}) \n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const [token, hash] = [m[1], m[2]];

    // cp2: the shared certificates and the etcd client files copied by hand, as for external etcd.
    untar(
      'cp2',
      tar(
        'cp1',
        'ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt apiserver-etcd-client.crt apiserver-etcd-client.key',
      ),
    );
    put(
      dir,
      CP2,
      '/var/lib/kubeadm-ha/join-config.yaml',
      joinConfig({ lb: LB, token, hash, name: 'cp2', cpAddress: CP2 }),
    );
    r = ssh(dir, CP2, 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\[check-etcd\]|\[etcd\]|A new etcd member/);
    assert.ok(!fs.existsSync(hostPath(dir, 'cp2', '/etc/kubernetes/manifests/etcd.yaml')));
    put(dir, W1, '/var/lib/kubeadm-ha/join-config.yaml', joinConfig({ lb: LB, token, hash, name: 'w1' }));
    r = ssh(dir, W1, 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml');
    assert.equal(r.code, 0, r.stderr);

    r = etcdctl('etcd1', endpoints(), 'get /registry/minions --prefix --keys-only');
    assert.deepEqual(r.stdout.split('\n').filter(Boolean), [
      '/registry/minions/cp1',
      '/registry/minions/cp2',
      '/registry/minions/w1',
    ]);
    r = etcdctl(
      'etcd2',
      endpoints(),
      `get /registry/secrets/kube-system/bootstrap-token-${token.split('.')[0]} --print-value-only`,
    );
    assert.equal(JSON.parse(r.stdout).type, 'bootstrap.kubernetes.io/token');
    const nodes = (): string[] =>
      ssh(dir, CP1, `${KUBECTL} get nodes --no-headers`)
        .stdout.trim()
        .split('\n')
        .map((l) => l.split(/\s+/).slice(0, 3).join(' '));
    assert.deepEqual(nodes(), ['cp1 NotReady control-plane', 'cp2 NotReady control-plane', 'w1 NotReady <none>']);
    // kubectl reads the Nodes back from etcd.
    assert.equal(etcdctl('etcd3', endpoints(), 'del /registry/minions/w1').stdout, '1\n');
    assert.deepEqual(nodes(), ['cp1 NotReady control-plane', 'cp2 NotReady control-plane']);

    r = ssh(dir, CP1, `${KUBECTL} -n kube-system exec etcd-cp1 -- etcdctl member list`);
    assert.deepEqual([r.code, r.stderr], [1, 'Error from server (NotFound): pods "etcd-cp1" not found\n']);
  });

  it('kubeadm reset on an etcd member stops its etcd and cleans the host', async () => {
    const pid = etcdPid('etcd3');
    const r = ssh(dir, etcd[2][1], 'sudo -n kubeadm reset -f');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /\[reset\] Deleted contents of the etcd data directory: \/var\/lib\/etcd\n\[reset\] Stopping the kubelet service\n/,
    );
    assert.ok(!alive(pid));
    assert.ok(!fs.existsSync(path.join(dir, 'hosts/etcd3/run/kubelet.pid')));
    for (const d of ['/etc/kubernetes/manifests', '/var/lib/etcd', PKI])
      assert.deepEqual(fs.readdirSync(hostPath(dir, 'etcd3', `${d}/.`)), [], d);
    assert.notEqual(etcdctl('etcd1', `https://${etcd[2][1]}:2379`, 'endpoint health').code, 0);
    // Two of three members keep the quorum: the API server still reads its Nodes.
    assert.match(ssh(dir, CP1, `${KUBECTL} get nodes --no-headers`).stdout, /^cp1 /);
  });

  it('the API server is healthy only while etcd answers; systemctl stop/start kubelet stops and restarts etcd', async () => {
    const health = (): Promise<[number, string]> =>
      new Promise((resolve) => {
        https
          .get(
            { host: CP1, port: 6443, path: '/healthz', rejectUnauthorized: false, agent: false, timeout: 5000 },
            (res) => {
              let body = '';
              res.on('data', (b: Buffer) => (body += b));
              res.on('end', () => resolve([res.statusCode ?? 0, body]));
            },
          )
          .on('error', () => resolve([0, '']));
      });
    assert.deepEqual(await health(), [200, 'ok']);
    const pids = ['etcd1', 'etcd2'].map(etcdPid);
    for (const [name, host] of etcd.slice(0, 2))
      assert.equal(ssh(dir, host, 'sudo -n systemctl stop kubelet').code, 0, name);
    assert.ok(!pids.some(alive));
    assert.equal(ssh(dir, etcd[0][1], 'systemctl is-active kubelet').stdout, 'inactive\n');
    const [code, body] = await health();
    assert.equal(code, 500);
    assert.match(body, /\[-\]etcd failed/);
    assert.equal(ssh(dir, CP1, `${KUBECTL} get nodes`).code, 1);
    for (const [name, host] of etcd.slice(0, 2))
      assert.equal(ssh(dir, host, 'sudo -n systemctl start kubelet').code, 0, name);
    const until = Date.now() + 60000;
    while ((await health())[0] !== 200) {
      assert.ok(Date.now() < until, 'the API server did not become healthy again');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Same data dirs: the Nodes are still there.
    assert.match(ssh(dir, CP1, `${KUBECTL} get nodes --no-headers`).stdout, /^cp1 .*\ncp2 /);
  });

  it('fleet down leaves no etcd process behind', async () => {
    const pids = ['etcd1', 'etcd2'].map(etcdPid);
    assert.ok(pids.every(alive));
    await fleetDown(dir);
    assert.ok(!pids.some(alive));
    const left = fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`https://198.18.${info.slot}.4`);
        } catch {
          return false;
        }
      });
    assert.deepEqual(left, []);
  });
});
