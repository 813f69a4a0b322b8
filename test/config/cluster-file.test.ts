// The cluster file is checked before anything runs: every problem names its field and says what to do.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ClusterFileError, loadClusterFile } from '../../src/config/cluster-file';

describe('cluster file', () => {
  let dir: string;
  const good = () => ({
    name: 'prod-eu1',
    kubernetesVersion: 'v1.31.4',
    topology: 'stacked',
    loadBalancer: { host: 'k8s-api.example.com', port: 6443 },
    networking: { podSubnet: '192.168.0.0/16' },
    cni: { manifest: './cni.yaml' },
    ssh: { user: 'ubuntu', privateKeyFile: './id_ed25519', knownHostsFile: './known_hosts', port: 22 },
    controlPlanes: [{ name: 'cp1', address: '10.0.0.7' }, { name: 'cp2', address: '10.0.0.8' }, { name: 'cp3', address: '10.0.0.9' }],
    workers: [{ name: 'w1', address: '10.0.1.1', port: 2200 }],
    approvals: ['init', 'joinControlPlanes'],
    workerConcurrency: 20,
  });
  const write = (doc: unknown, name = 'cluster.yaml') => {
    const p = join(dir, name);
    writeFileSync(p, typeof doc === 'string' ? doc : stringify(doc));
    return p;
  };
  const problems = (doc: unknown): string[] => {
    try {
      loadClusterFile(write(doc));
    } catch (err) {
      assert.ok(err instanceof ClusterFileError, String(err));
      return err.problems;
    }
    assert.fail('expected the cluster file to be refused');
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kha-cluster-'));
    writeFileSync(join(dir, 'cni.yaml'), 'kind: DaemonSet\n');
    writeFileSync(join(dir, 'id_ed25519'), 'key', { mode: 0o600 });
    writeFileSync(join(dir, 'known_hosts'), '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a good file, resolving paths against the file and applying defaults', () => {
    const spec = loadClusterFile(write(good()));
    assert.equal(spec.cniManifest, join(dir, 'cni.yaml'));
    assert.equal(spec.ssh.privateKeyFile, join(dir, 'id_ed25519'));
    assert.equal(spec.controlPlanes[0].port, 22, 'host port defaults to ssh.port');
    assert.equal(spec.workers[0].port, 2200);
    assert.deepEqual(spec.approvals, ['init', 'joinControlPlanes']);
    const minimal = good() as Record<string, unknown>;
    delete minimal.approvals;
    delete minimal.workerConcurrency;
    delete minimal.topology;
    const d = loadClusterFile(write(minimal));
    assert.deepEqual(d.approvals, ['etcd', 'init', 'joinControlPlanes', 'joinWorkers'], 'every gate by default');
    assert.equal(d.certificates, 'copy', 'the page\'s manual copy by default');
    assert.equal(d.etcd, undefined);
    assert.equal(d.workerConcurrency, 10);
    assert.equal(d.topology, 'stacked');
  });

  it('names each missing field', () => {
    const doc = good() as Record<string, unknown>;
    delete doc.name;
    delete doc.loadBalancer;
    (doc.ssh as Record<string, unknown>).user = '';
    const p = problems(doc);
    assert.ok(p.includes('name: missing; it is required'), p.join('\n'));
    assert.ok(p.includes('loadBalancer: missing; it is required'));
    assert.ok(p.includes('ssh.user: missing; it is required'));
  });

  it('refuses bad addresses, ports, CIDRs, versions and topologies with the field named', () => {
    const doc = good();
    doc.controlPlanes[1].address = '10.0.0.300';
    doc.loadBalancer.port = 70000;
    doc.networking.podSubnet = '192.168.0.0';
    doc.kubernetesVersion = 'v1.12.3';
    doc.topology = 'stackd';
    const p = problems(doc).join('\n');
    assert.match(p, /controlPlanes\[1\]\.address: "10\.0\.0\.300" is neither an IP address nor a DNS name/);
    assert.match(p, /loadBalancer\.port: 70000 is not a TCP port/);
    assert.match(p, /networking\.podSubnet: "192\.168\.0\.0" is not a CIDR/);
    doc.controlPlanes[1].address = 'cp2.example.com';
    assert.match(problems(doc).join('\n'), /controlPlanes\[1\]\.address: "cp2\.example\.com" must be an IP address/);
    assert.match(p, /kubernetesVersion: .*1\.13/);
    assert.match(p, /topology: "stackd" is unknown; use one of stacked, external/);
  });

  it('refuses duplicate hosts by name and by address', () => {
    const doc = good();
    doc.workers.push({ name: 'cp2', address: '10.0.1.2', port: 22 }, { name: 'w9', address: '10.0.0.7', port: 22 });
    const p = problems(doc).join('\n');
    assert.match(p, /workers\[1\]\.name: duplicate host name "cp2", already used by controlPlanes\[1\]/);
    assert.match(p, /workers\[2\]\.address: duplicate host address "10\.0\.0\.7:22", already used by controlPlanes\[0\]/);
  });

  it('refuses unknown fields, phases and a bad concurrency', () => {
    const doc = { ...good(), extra: 1, approvals: ['init', 'cni'], workerConcurrency: 0 };
    const p = problems(doc).join('\n');
    assert.match(p, /extra: unknown field/);
    assert.match(p, /approvals: "cni" is not a phase that can wait for approval/);
    assert.match(p, /workerConcurrency: 0 must be a whole number from 1 to 500/);
  });

  it('refuses an unreadable key, a key others can read, and a missing manifest', () => {
    const doc = good();
    doc.ssh.privateKeyFile = './nope';
    doc.cni.manifest = './missing.yaml';
    let p = problems(doc).join('\n');
    assert.match(p, /ssh\.privateKeyFile: cannot read the SSH private key .*nope \(ENOENT\)/);
    assert.match(p, /cni\.manifest: cannot read the CNI manifest .*missing\.yaml/);
    writeFileSync(join(dir, 'open_key'), 'key');
    chmodSync(join(dir, 'open_key'), 0o644);
    p = problems({ ...good(), ssh: { ...good().ssh, privateKeyFile: './open_key' } }).join('\n');
    assert.match(p, /ssh\.privateKeyFile: .*open_key is readable by group or others; run: chmod 600/);
  });

  it('external etcd: hosts to build (an odd count) or an existing cluster (https endpoints and readable client files)', () => {
    const etcdHosts = ['etcd1', 'etcd2', 'etcd3'].map((name, i) => ({ name, address: `10.0.2.${i + 1}` }));
    const built = loadClusterFile(write({ ...good(), topology: 'external', etcd: { hosts: etcdHosts } }));
    assert.deepEqual(built.etcd, { hosts: etcdHosts.map((h) => ({ ...h, port: 22 })) });
    let p = problems({ ...good(), topology: 'external', etcd: { hosts: etcdHosts.slice(0, 2) } }).join('\n');
    assert.match(p, /etcd\.hosts: 2 members; etcd needs an odd count \(1, 3, 5, 7\): 2 members tolerate no more failures than 1/);
    p = problems({ ...good(), topology: 'external', etcd: { hosts: [...etcdHosts.slice(0, 2), { name: 'cp1', address: 'etcd3.example.com' }] } }).join('\n');
    assert.match(p, /etcd\.hosts\[2\]\.name: duplicate host name "cp1", already used by controlPlanes\[0\]/);
    assert.match(p, /etcd\.hosts\[2\]\.address: "etcd3\.example\.com" must be an IP address: kubeadm advertises the etcd member on it/);
    assert.match(problems({ ...good(), topology: 'external' }).join('\n'), /etcd: topology external needs an etcd mapping: either hosts .* or endpoints, caFile, certFile and keyFile/);
    assert.match(problems({ ...good(), etcd: { hosts: etcdHosts } }).join('\n'), /etcd: only with topology: external/);

    writeFileSync(join(dir, 'etcd-ca.crt'), 'ca');
    writeFileSync(join(dir, 'etcd-client.crt'), 'crt');
    writeFileSync(join(dir, 'etcd-client.key'), 'key', { mode: 0o600 });
    const existing = { endpoints: ['https://10.0.2.1:2379'], caFile: './etcd-ca.crt', certFile: './etcd-client.crt', keyFile: './etcd-client.key' };
    const e = loadClusterFile(write({ ...good(), topology: 'external', etcd: existing }));
    assert.deepEqual(e.etcd, { endpoints: ['https://10.0.2.1:2379'], caFile: join(dir, 'etcd-ca.crt'), certFile: join(dir, 'etcd-client.crt'), keyFile: join(dir, 'etcd-client.key') });
    p = problems({ ...good(), topology: 'external', etcd: { ...existing, endpoints: ['http://10.0.2.1:2379'], keyFile: './none.key', hosts2: 1 } }).join('\n');
    assert.match(p, /etcd\.endpoints\[0\]: "http:\/\/10\.0\.2\.1:2379" is not an https:\/\/host:port client URL/);
    assert.match(p, /etcd\.keyFile: cannot read the etcd client key .*none\.key \(ENOENT\)/);
    assert.match(p, /etcd\.hosts2: unknown field; an existing etcd cluster takes endpoints, caFile, certFile and keyFile/);
  });

  it('certificates: copy or upload; upload needs a config API with certificateKey (1.15+)', () => {
    assert.equal(loadClusterFile(write({ ...good(), certificates: 'upload' })).certificates, 'upload');
    assert.match(problems({ ...good(), certificates: 'uplaod' }).join('\n'), /certificates: "uplaod" is unknown; use copy .* or upload/);
    assert.match(problems({ ...good(), certificates: 'upload', kubernetesVersion: 'v1.14.10' }).join('\n'),
      /certificates: Kubernetes v1\.14\.10 cannot upload certificates with a certificate key in the config file .*1\.15\); use copy/);
    assert.equal(loadClusterFile(write({ ...good(), kubernetesVersion: 'v1.13.5' })).certificates, 'copy');
  });

  it('reports YAML syntax errors and non-mapping files', () => {
    assert.match(problems('name: [unclosed').join('\n'), /not valid YAML/);
    assert.match(problems('- a\n- b\n').join('\n'), /must be a YAML mapping/);
  });
});
