// The cluster file is checked before anything runs: every problem names its field and says what to do.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { checkClusterFile, ClusterFileError, loadClusterFile, readClusterFile } from '../../src/config/cluster-file';
import { LIMITS } from '../../src/config/schema-parts';
import { clusterJsonSchemaText, SCHEMA_FILE } from '../../src/config/json-schema';
import { canonicalAddress, cidrContains, parseCidr, parseIp } from '../../src/config/net';
import { checkNodeName } from '../../src/kubeadm/validate';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** ssh2 reads PKCS#1 PEM, the OpenSSH format and PuTTY keys. */
const SSH_KEY = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const ENCRYPTED_SSH_KEY = rsa.privateKey.export({
  type: 'pkcs1',
  format: 'pem',
  cipher: 'aes-128-cbc',
  passphrase: 'secret',
}) as string;
/** An OpenSSH public key line (what id_ed25519.pub holds). */
const SSH_PUBLIC_KEY = (() => {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} me@host\n`;
})();
/** A self-signed test certificate (no secret: its key is not kept). */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBozCCAUmgAwIBAgIUFudStZElMMx6rqqAVwKc2g3j7UIwCgYIKoZIzj0EAwIw
JjEkMCIGA1UEAwwba3ViZWFkbS1oYS10ZXN0LWV0Y2QtY2xpZW50MCAXDTI2MTIw
MTIzNDAxM1oYDzIxMjYxMTA3MjM0MDEzWjAmMSQwIgYDVQQDDBtrdWJlYWRtLWhh
LXRlc3QtZXRjZC1jbGllbnQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASjAhjP
fMcyx1jstGAh1EFz2keduT4LeoEklJdXJwezdoJhLXBw7XCCmj4ICLDyhVuh5+Z4
RwIo6Adf8jqLvfcLo1MwUTAdBgNVHQ4EFgQUm0A1D6Vrbt4NOBMI5AMc7TYMovsw
HwYDVR0jBBgwFoAUm0A1D6Vrbt4NOBMI5AMc7TYMovswDwYDVR0TAQH/BAUwAwEB
/zAKBggqhkjOPQQDAgNIADBFAiEAqDBhoKypOm1OB4/j9Mq0bRULPEjnJW6TOr9K
IdDE7ysCIGu1BS46kSEqdVZ2mmAAgo6+vsEAQnJIjs3erZUqeMiW
-----END CERTIFICATE-----
`;
const PEM_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;

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
    controlPlanes: [
      { name: 'cp1', address: '10.0.0.7' },
      { name: 'cp2', address: '10.0.0.8' },
      { name: 'cp3', address: '10.0.0.9' },
    ],
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
    writeFileSync(join(dir, 'id_ed25519'), SSH_KEY, { mode: 0o600 });
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
    assert.equal(d.certificates, 'copy', "the page's manual copy by default");
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
    assert.match(
      p,
      /workers\[2\]\.address: duplicate host address "10\.0\.0\.7:22", already used by controlPlanes\[0\]/,
    );
  });

  it('refuses unknown fields, phases and a bad concurrency', () => {
    const doc = { ...good(), extra: 1, approvals: ['init', 'cni'], workerConcurrency: 0 };
    const p = problems(doc).join('\n');
    assert.match(p, /extra: unknown field/);
    assert.match(p, /approvals\[1\]: "cni" is not a phase that can wait for approval/);
    assert.match(p, /workerConcurrency: 0 must be a whole number from 1 to 500/);
  });

  it('refuses an unreadable key, a key others can read, and a missing manifest', () => {
    const doc = good();
    doc.ssh.privateKeyFile = './nope';
    doc.cni.manifest = './missing.yaml';
    let p = problems(doc).join('\n');
    assert.match(p, /ssh\.privateKeyFile: cannot read the SSH private key .*nope \(ENOENT\)/);
    assert.match(p, /cni\.manifest: cannot read the CNI manifest .*missing\.yaml/);
    writeFileSync(join(dir, 'open_key'), SSH_KEY);
    chmodSync(join(dir, 'open_key'), 0o644);
    p = problems({ ...good(), ssh: { ...good().ssh, privateKeyFile: './open_key' } }).join('\n');
    assert.match(p, /ssh\.privateKeyFile: .*open_key is readable by group or others; run: chmod 600/);
  });

  it('external etcd: hosts to build (an odd count) or an existing cluster (https endpoints and readable client files)', () => {
    const etcdHosts = ['etcd1', 'etcd2', 'etcd3'].map((name, i) => ({ name, address: `10.0.2.${i + 1}` }));
    const built = loadClusterFile(write({ ...good(), topology: 'external', etcd: { hosts: etcdHosts } }));
    assert.deepEqual(built.etcd, { hosts: etcdHosts.map((h) => ({ ...h, port: 22 })) });
    let p = problems({ ...good(), topology: 'external', etcd: { hosts: etcdHosts.slice(0, 2) } }).join('\n');
    assert.match(
      p,
      /etcd\.hosts: 2 members; etcd needs an odd count \(1, 3, 5, 7\): 2 members tolerate no more failures than 1/,
    );
    p = problems({
      ...good(),
      topology: 'external',
      etcd: { hosts: [...etcdHosts.slice(0, 2), { name: 'cp1', address: 'etcd3.example.com' }] },
    }).join('\n');
    assert.match(p, /etcd\.hosts\[2\]\.name: duplicate host name "cp1", already used by controlPlanes\[0\]/);
    assert.match(
      p,
      /etcd\.hosts\[2\]\.address: "etcd3\.example\.com" must be an IP address: kubeadm advertises the etcd member on it/,
    );
    assert.match(
      problems({ ...good(), topology: 'external' }).join('\n'),
      /etcd: topology external needs an etcd mapping: either hosts .* or endpoints, caFile, certFile and keyFile/,
    );
    assert.match(problems({ ...good(), etcd: { hosts: etcdHosts } }).join('\n'), /etcd: only with topology: external/);

    writeFileSync(join(dir, 'etcd-ca.crt'), CERT);
    writeFileSync(join(dir, 'etcd-client.crt'), CERT);
    writeFileSync(join(dir, 'etcd-client.key'), PEM_KEY, { mode: 0o600 });
    const existing = {
      endpoints: ['https://10.0.2.1:2379'],
      caFile: './etcd-ca.crt',
      certFile: './etcd-client.crt',
      keyFile: './etcd-client.key',
    };
    const e = loadClusterFile(write({ ...good(), topology: 'external', etcd: existing }));
    assert.deepEqual(e.etcd, {
      endpoints: ['https://10.0.2.1:2379'],
      caFile: join(dir, 'etcd-ca.crt'),
      certFile: join(dir, 'etcd-client.crt'),
      keyFile: join(dir, 'etcd-client.key'),
    });
    p = problems({
      ...good(),
      topology: 'external',
      etcd: { ...existing, endpoints: ['http://10.0.2.1:2379'], keyFile: './none.key', hosts2: 1 },
    }).join('\n');
    assert.match(p, /etcd\.endpoints\[0\]: "http:\/\/10\.0\.2\.1:2379" is not an https:\/\/host:port client URL/);
    assert.match(p, /etcd\.keyFile: cannot read the etcd client key .*none\.key \(ENOENT\)/);
    assert.match(
      p,
      /etcd\.hosts2: unknown field; an existing etcd cluster takes endpoints, caFile, certFile and keyFile/,
    );
  });

  it('certificates: copy or upload; upload needs a config API with certificateKey (1.15+)', () => {
    assert.equal(loadClusterFile(write({ ...good(), certificates: 'upload' })).certificates, 'upload');
    assert.match(
      problems({ ...good(), certificates: 'uplaod' }).join('\n'),
      /certificates: "uplaod" is unknown; use copy .* or upload/,
    );
    assert.match(
      problems({ ...good(), certificates: 'upload', kubernetesVersion: 'v1.14.10' }).join('\n'),
      /certificates: Kubernetes v1\.14\.10 cannot upload certificates with a certificate key in the config file .*1\.15\); use copy/,
    );
    assert.equal(loadClusterFile(write({ ...good(), kubernetesVersion: 'v1.13.5' })).certificates, 'copy');
  });

  it('kubeadm: preflight checks to ignore by name (never all) and a patches directory on the hosts', () => {
    assert.deepEqual(loadClusterFile(write(good())).kubeadm, { ignorePreflightErrors: [] });
    const kubeadm = { ignorePreflightErrors: ['SystemVerification'], patches: '/etc/kubeadm-ha-fleet/patches' };
    assert.deepEqual(loadClusterFile(write({ ...good(), kubeadm })).kubeadm, kubeadm);
    assert.match(
      problems({ ...good(), kubeadm: { ignorePreflightErrors: ['all'] } }).join('\n'),
      /^kubeadm\.ignorePreflightErrors\[0\]: "all" would skip every preflight check; name each check to ignore/m,
    );
    assert.match(
      problems({ ...good(), kubeadm: { ignorePreflightErrors: ['Swap; rm -rf /'] } }).join('\n'),
      /kubeadm\.ignorePreflightErrors\[0\]: .* is not a kubeadm preflight check name/,
    );
    assert.match(
      problems({ ...good(), kubeadm: { patches: 'patches' } }).join('\n'),
      /^kubeadm\.patches: "patches" must be an absolute path on the hosts/m,
    );
    assert.match(
      problems({ ...good(), kubernetesVersion: 'v1.21.14', kubeadm: { patches: '/p' } }).join('\n'),
      /^kubeadm\.patches: patches\.directory arrived in kubeadm\.k8s\.io\/v1beta3 \(Kubernetes 1\.22\)/m,
    );
    assert.match(
      problems({ ...good(), kubernetesVersion: 'v1.14.10', kubeadm: { ignorePreflightErrors: ['Swap'] } }).join('\n'),
      /^kubeadm\.ignorePreflightErrors: .*\(Kubernetes 1\.15\)/m,
    );
  });

  it('kubeletConfiguration and kubeProxyConfiguration: their fields by name, without apiVersion and kind', () => {
    assert.equal(loadClusterFile(write(good())).kubeletConfiguration, undefined);
    assert.deepEqual(
      loadClusterFile(write({ ...good(), kubeletConfiguration: { cgroupDriver: 'cgroupfs', failCgroupV1: false } }))
        .kubeletConfiguration,
      { cgroupDriver: 'cgroupfs', failCgroupV1: false },
    );
    assert.match(
      problems({ ...good(), kubeletConfiguration: { kind: 'KubeletConfiguration' } }).join('\n'),
      /^kubeletConfiguration\.kind: is set by kubeadm-ha/m,
    );
    assert.match(
      problems({ ...good(), kubeletConfiguration: { 'cgroup-driver': 'cgroupfs' } }).join('\n'),
      /^kubeletConfiguration\.cgroup-driver: is not a KubeletConfiguration field name/m,
    );
    assert.deepEqual(
      loadClusterFile(write({ ...good(), kubeProxyConfiguration: { mode: 'nftables' } })).kubeProxyConfiguration,
      { mode: 'nftables' },
    );
    assert.match(
      problems({ ...good(), kubeProxyConfiguration: { apiVersion: 'v1' } }).join('\n'),
      /^kubeProxyConfiguration\.apiVersion: is set by kubeadm-ha \(kubeproxy\.config\.k8s\.io\/v1alpha1 KubeProxyConfiguration\)/m,
    );
  });

  it('reports YAML syntax errors and non-mapping files', () => {
    assert.match(problems('name: [unclosed').join('\n'), /not valid YAML/);
    assert.match(problems('- a\n- b\n').join('\n'), /must be a YAML mapping/);
  });

  it('refuses invalid UTF-8 by line, unknown tags with the line escaped, and a YAML 1.1 header', () => {
    const bytes = Buffer.concat([Buffer.from(`${stringify(good())}# caf`), Buffer.from([0xe9]), Buffer.from('\n')]);
    const line = stringify(good()).split('\n').length;
    writeFileSync(join(dir, 'latin1.yaml'), bytes);
    assert.throws(
      () => loadClusterFile(join(dir, 'latin1.yaml')),
      (e: unknown) =>
        e instanceof ClusterFileError && e.problems[0] === `line ${line}: not valid UTF-8; save the file as UTF-8`,
    );
    const tagged = problems(`${stringify(good())}extra: !evil "\u001b[31mred"\n`).join('\n');
    assert.match(tagged, /^not valid YAML: Unresolved tag: !evil/m);
    // eslint-disable-next-line no-control-regex -- the test looks for a raw escape character
    assert.doesNotMatch(tagged, /\u001b/);
    assert.match(
      problems(`%YAML 1.1\n---\n${stringify(good())}`).join('\n'),
      /^a %YAML 1\.1 header changes how values such as yes and 0:22 are read; remove it/m,
    );
  });
  const text = (doc: unknown) => problems(doc).join('\n');

  it('suggests the field meant for a misspelt key, at every level', () => {
    const doc = good() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a malformed document, any shape
    doc.loadBalancer.prot = 6443;
    doc.networking = { podSubnets: '192.168.0.0/16' };
    doc.ssh.privateKeyFle = './id_ed25519';
    doc.controlPlanes[0].adress = '10.0.0.7';
    doc.workrs = [];
    doc.podSubnet = '10.0.0.0/8';
    const p = text(doc);
    assert.match(p, /^loadBalancer\.prot: unknown field; did you mean port\?$/m);
    assert.match(p, /^networking\.podSubnets: unknown field; did you mean podSubnet\?$/m);
    assert.match(p, /^networking\.podSubnet: missing; it is required$/m);
    assert.match(p, /^ssh\.privateKeyFle: unknown field; did you mean privateKeyFile\?$/m);
    assert.match(p, /^controlPlanes\[0\]\.adress: unknown field; did you mean address\?$/m);
    assert.match(p, /^workrs: unknown field; did you mean workers\?$/m);
    assert.match(p, /^podSubnet: unknown field here; did you mean networking\.podSubnet\?$/m);
    assert.match(
      text({ ...good(), loadBalancer: { host: 'lb', zzz: 1 } }),
      /^loadBalancer\.zzz: unknown field; loadBalancer takes host and port$/m,
    );
    assert.match(
      text({ ...good(), workers: [{ name: 'w1', address: '10.0.1.1', role: 'x' }] }),
      /^workers\[0\]\.role: unknown field; workers\[0\] takes name, address, port, taskQueue and remove$/m,
    );
    assert.match(
      text({
        ...good(),
        topology: 'external',
        etcd: { endpoints: ['https://10.0.2.1:2379'], cafile: 'a', certFile: 'b', keyFile: 'c' },
      }),
      /^etcd\.cafile: unknown field; did you mean caFile\?$/m,
    );
    assert.match(
      text({ ...good(), topology: 'stackd' }),
      /topology: "stackd" is unknown; use one of stacked, external; did you mean stacked\?/,
    );
  });

  it('names wrong types and missing fields', () => {
    const doc = good() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a malformed document, any shape
    doc.name = 123;
    doc.workers = 'w1';
    doc.ssh.forwardAgent = 'yes';
    doc.ssh.hostKeyPolicy = 'tofu';
    delete doc.ssh.privateKeyFile;
    delete doc.controlPlanes[2].address;
    doc.cni = ['./cni.yaml'];
    const p = text(doc);
    assert.match(p, /^name: must be a string \(quote it .*\), got the number 123$/m);
    assert.match(p, /^workers: must be a list, got the text "w1"$/m);
    assert.match(p, /^ssh\.forwardAgent: must be true or false, got the text "yes"$/m);
    assert.match(p, /^ssh\.hostKeyPolicy: "tofu" is unknown; use one of strict, accept-new$/m);
    assert.match(p, /^ssh\.privateKeyFile: missing; it is required$/m);
    assert.match(p, /^controlPlanes\[2\]\.address: missing; it is required$/m);
    assert.match(p, /^cni: must be a mapping \(key: value\), got a list$/m);
    assert.match(text({ ...good(), controlPlanes: [] }), /^controlPlanes: needs at least 1, found 0$/m);
  });

  it('ssh: host-key policy, jump host and agent forwarding, with defaults', () => {
    const d = loadClusterFile(write(good()));
    assert.equal(d.ssh.hostKeyPolicy, 'strict');
    assert.equal(d.ssh.forwardAgent, false);
    assert.equal(d.ssh.jumpHost, undefined);
    const j = loadClusterFile(
      write({
        ...good(),
        ssh: {
          ...good().ssh,
          hostKeyPolicy: 'accept-new',
          forwardAgent: true,
          jumpHost: { address: 'bastion.example.com' },
        },
      }),
    );
    assert.equal(j.ssh.hostKeyPolicy, 'accept-new');
    assert.equal(j.ssh.forwardAgent, true);
    assert.deepEqual(j.ssh.jumpHost, { address: 'bastion.example.com', port: 22, user: 'ubuntu' });
    const p = text({
      ...good(),
      ssh: { ...good().ssh, jumpHost: { address: '10.0.0.300', port: 0, user: 'Bad User', via: 1 } },
    });
    assert.match(p, /^ssh\.jumpHost\.address: "10\.0\.0\.300" is neither an IP address nor a DNS name$/m);
    assert.match(p, /^ssh\.jumpHost\.port: 0 is not a TCP port/m);
    assert.match(p, /^ssh\.jumpHost\.user: "Bad User" is not a valid Linux user name$/m);
    assert.match(p, /^ssh\.jumpHost\.via: unknown field; ssh\.jumpHost takes address, port and user$/m);
  });

  it('reads the SSH private key: encrypted, empty, public, PKCS#8 and garbage keys are refused', () => {
    const key = (name: string, content: string) => {
      writeFileSync(join(dir, name), content, { mode: 0o600 });
      return text({ ...good(), ssh: { ...good().ssh, privateKeyFile: `./${name}` } });
    };
    assert.match(
      key('enc', ENCRYPTED_SSH_KEY),
      /^ssh\.privateKeyFile: \S*enc is protected by a passphrase, .* needs an unencrypted key .* or an agent$/m,
    );
    assert.match(key('empty', ''), /^ssh\.privateKeyFile: \S*empty is empty; give the SSH private key/m);
    assert.match(
      key('id.pub', SSH_PUBLIC_KEY),
      /^ssh\.privateKeyFile: \S*id\.pub is a public key \(ssh-ed25519\); give the private key/m,
    );
    assert.match(
      key('pk8', PEM_KEY),
      /^ssh\.privateKeyFile: \S*pk8 is a PKCS#8 key, which the SSH client \(ssh2\) cannot read/m,
    );
    assert.match(
      key('junk', 'hello\n'),
      /^ssh\.privateKeyFile: \S*junk is not an SSH private key \(Unsupported key format\)/m,
    );
    assert.match(
      text({ ...good(), ssh: { ...good().ssh, knownHostsFile: './no_known_hosts' } }),
      /^ssh\.knownHostsFile: cannot read the known_hosts file \S*no_known_hosts \(ENOENT\)/m,
    );
    // accept-new records keys, so a known_hosts file that does not exist yet is fine
    loadClusterFile(
      write({ ...good(), ssh: { ...good().ssh, knownHostsFile: './no_known_hosts', hostKeyPolicy: 'accept-new' } }),
    );
  });

  it('existing etcd: PEM certificates and an unencrypted PEM key kept private', () => {
    writeFileSync(join(dir, 'bad.crt'), PEM_KEY);
    writeFileSync(join(dir, 'open.key'), PEM_KEY, { mode: 0o644 });
    chmodSync(join(dir, 'open.key'), 0o644);
    writeFileSync(join(dir, 'cert-as.key'), CERT, { mode: 0o600 });
    const etcd = {
      endpoints: ['https://10.0.2.1:2379'],
      caFile: './bad.crt',
      certFile: './bad.crt',
      keyFile: './open.key',
    };
    let p = text({ ...good(), topology: 'external', etcd });
    assert.match(
      p,
      /^etcd\.caFile: \S*bad\.crt is not a PEM certificate \(no "-----BEGIN CERTIFICATE-----" line\); give the etcd CA certificate in PEM form$/m,
    );
    assert.match(p, /^etcd\.certFile: \S*bad\.crt is not a PEM certificate/m);
    assert.match(p, /^etcd\.keyFile: \S*open\.key is readable by group or others; run: chmod 600 /m);
    p = text({
      ...good(),
      topology: 'external',
      etcd: { ...etcd, caFile: './etcd-ca.crt', certFile: './etcd-client.crt', keyFile: './cert-as.key' },
    });
    assert.match(p, /^etcd\.keyFile: \S*cert-as\.key is not a PEM private key/m);
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-128-cbc',
      passphrase: 'x',
    }) as string;
    writeFileSync(join(dir, 'enc.key'), encrypted, { mode: 0o600 });
    p = text({
      ...good(),
      topology: 'external',
      etcd: { ...etcd, caFile: './etcd-ca.crt', certFile: './etcd-client.crt', keyFile: './enc.key' },
    });
    assert.match(
      p,
      /^etcd\.keyFile: \S*enc\.key is protected by a passphrase; the API server needs an unencrypted key/m,
    );
  });

  it('network ranges: apart, not everything, no host bits, holding no host address', () => {
    const net = (networking: object, extra: object = {}) => text({ ...good(), networking, ...extra });
    assert.match(
      net({ podSubnet: '10.96.0.0/16', serviceSubnet: '10.96.0.0/16' }),
      /^networking\.podSubnet: "10\.96\.0\.0\/16" is the same range as networking\.serviceSubnet; pods and services need separate ranges$/m,
    );
    assert.match(
      net({ podSubnet: '10.0.0.0/8', serviceSubnet: '10.96.0.0/12' }),
      /^networking\.podSubnet: "10\.0\.0\.0\/8" overlaps networking\.serviceSubnet "10\.96\.0\.0\/12"; pick ranges that do not overlap$/m,
    );
    assert.match(
      net({ podSubnet: '10.96.0.0/16' }),
      /^networking\.podSubnet: "10\.96\.0\.0\/16" overlaps kubeadm's default service range 10\.96\.0\.0\/12 \(networking\.serviceSubnet not set\)/m,
    );
    assert.match(
      net({ podSubnet: '0.0.0.0/0' }),
      /^networking\.podSubnet: "0\.0\.0\.0\/0" is every address; give the cluster's own pod range/m,
    );
    assert.match(
      net({ podSubnet: '192.168.0.0/16', serviceSubnet: '10.96.0.0/12,::/0' }),
      /^networking\.serviceSubnet: "::\/0" is every address/m,
    );
    assert.match(
      net({ podSubnet: '192.168.1.5/16' }),
      /^networking\.podSubnet: "192\.168\.1\.5\/16" has host bits set; the network address is 192\.168\.0\.0\/16: write that$/m,
    );
    assert.match(
      net({ podSubnet: '10.0.0.0/16' }),
      /^networking\.podSubnet: "10\.0\.0\.0\/16" contains controlPlanes\[0\]\.address 10\.0\.0\.7, controlPlanes\[1\]\.address 10\.0\.0\.8, controlPlanes\[2\]\.address 10\.0\.0\.9 and 1 more; the pod range must hold none of the hosts' addresses/m,
    );
    assert.match(
      net({ podSubnet: '192.168.0.0/16', serviceSubnet: '10.0.0.0/12' }, { loadBalancer: { host: '10.0.5.5' } }),
      /^networking\.serviceSubnet: "10\.0\.0\.0\/12" contains loadBalancer\.host 10\.0\.5\.5, controlPlanes\[0\]\.address 10\.0\.0\.7, controlPlanes\[1\]\.address 10\.0\.0\.8 and 2 more;/m,
    );
    assert.match(
      net({ podSubnet: '10.244.0.0/16,10.245.0.0/16' }),
      /^networking\.podSubnet: "10\.244\.0\.0\/16,10\.245\.0\.0\/16": give one range, or two for dual-stack \(one IPv4 and one IPv6\)$/m,
    );
    assert.match(
      net({ podSubnet: '192.168.0.0/16', serviceSubnet: '10.0.0.0/8' }),
      /^networking\.serviceSubnet: "10\.0\.0\.0\/8" is too large: kubeadm allows at most 2\^20 service addresses, so the mask must be \/12 or longer$/m,
    );
    assert.match(
      net({ podSubnet: '192.168.0.0/25' }),
      /^networking\.podSubnet: "192\.168\.0\.0\/25" is smaller than one node's pod range \(\/24\)/m,
    );
    const dual = loadClusterFile(
      write({
        ...good(),
        networking: { podSubnet: '10.244.0.0/16,fd00:10:244::/56', serviceSubnet: '10.96.0.0/12,fd00:10:96::/112' },
      }),
    );
    assert.equal(dual.networking.podSubnet, '10.244.0.0/16,fd00:10:244::/56');
  });

  it('compares IPv6 addresses in canonical form', () => {
    assert.equal(canonicalAddress('fd00:0:0::7'), 'fd00::7');
    assert.equal(canonicalAddress('FD00:0000::0:7'), 'fd00::7');
    assert.equal(canonicalAddress('::ffff:10.0.0.1'), '10.0.0.1', 'an IPv4-mapped address is that IPv4 address');
    assert.equal(canonicalAddress('::FFFF:a00:1'), '10.0.0.1');
    assert.equal(canonicalAddress('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
    const doc = good();
    doc.controlPlanes[0].address = 'fd00:0:0::7';
    doc.workers.push({ name: 'w2', address: 'fd00::7', port: 22 });
    assert.match(
      text(doc),
      /^workers\[1\]\.address: duplicate host address "\[fd00::7\]:22", already used by controlPlanes\[0\] \("fd00::7" and "fd00:0:0::7" are the same address\)$/m,
    );
  });

  it('refuses IPv4-mapped and unspecified host addresses, naming the plain form', () => {
    const doc = good();
    doc.controlPlanes[1].address = '::ffff:10.0.0.8';
    doc.workers[0].address = '0.0.0.0';
    doc.workers.push({ name: 'w2', address: '::', port: 22 });
    const all = text(doc);
    assert.match(
      all,
      /^controlPlanes\[1\]\.address: "::ffff:10\.0\.0\.8" is an IPv4-mapped IPv6 address; write it as 10\.0\.0\.8$/m,
    );
    assert.match(
      all,
      /^workers\[0\]\.address: "0\.0\.0\.0" is the unspecified address \(any address\); give the host's own address$/m,
    );
    assert.match(all, /^workers\[1\]\.address: "::" is the unspecified address/m);
  });

  it('marks control planes and workers remove: true, never the first control plane; the spec keeps the mark', () => {
    const doc = good();
    (doc.controlPlanes[2] as Record<string, unknown>).remove = true;
    (doc.workers[0] as Record<string, unknown>).remove = true;
    doc.controlPlanes.push({ name: 'cp4', address: '10.0.0.10' });
    const { spec, warnings } = readClusterFile(write(doc));
    assert.deepEqual(
      spec.controlPlanes.map((h) => [h.name, h.remove ?? false]),
      [
        ['cp1', false],
        ['cp2', false],
        ['cp3', true],
        ['cp4', false],
      ],
    );
    assert.equal(spec.workers[0].remove, true);
    assert.deepEqual(warnings, [], 'three control planes stay: no even-count warning');
    const first = good();
    (first.controlPlanes[0] as Record<string, unknown>).remove = true;
    assert.match(text(first), /^controlPlanes\[0\]\.remove: the first control plane cannot be removed/m);
    const no = good();
    (no.workers[0] as Record<string, unknown>).remove = false;
    assert.match(text(no), /^workers\[0\]\.remove: takes only true: leave it out to keep the host$/m);
  });

  it('refuses loopback where kubeadm advertises it (control planes, etcd hosts), and takes it for a worker reached through a tunnel', () => {
    const doc = good();
    doc.controlPlanes[0].address = '127.0.0.1';
    doc.controlPlanes[1].address = '::1';
    doc.workers[0].address = '127.0.0.1';
    doc.workers[0].port = 2201;
    const all = text(doc);
    assert.match(
      all,
      /^controlPlanes\[0\]\.address: "127\.0\.0\.1" is a loopback address: kubeadm would advertise the API server on it, which no other node can reach; give the host's address on the cluster network$/m,
    );
    assert.match(all, /^controlPlanes\[1\]\.address: "::1" is a loopback address/m);
    assert.doesNotMatch(all, /workers\[0\]/);
  });

  it('sees an IPv4-mapped address as the IPv4 address it is, in range checks', () => {
    assert.ok(cidrContains(parseCidr('10.0.0.0/16')!, parseIp('::ffff:10.0.0.8')!));
    assert.ok(!cidrContains(parseCidr('fd00::/8')!, parseIp('::ffff:10.0.0.8')!));
  });

  it("checks node names as kubeadm does, with the renderer's own function", () => {
    const doc = good();
    doc.controlPlanes[0].name = 'cp..1';
    doc.controlPlanes[1].name = 'CP2';
    doc.controlPlanes[2].name = `${'a'.repeat(64)}.example`;
    doc.workers[0].name = '-w1';
    const p = problems(doc);
    const want = (field: string, name: string) => {
      const fromRenderer = (() => {
        try {
          checkNodeName(field, name);
        } catch (e) {
          return (e as Error).message;
        }
        return 'accepted';
      })();
      assert.ok(p.includes(fromRenderer), `${fromRenderer}\nnot in\n${p.join('\n')}`);
      return fromRenderer;
    };
    assert.match(want('controlPlanes[0].name', 'cp..1'), /"cp\.\.1" is not a valid node name: an empty label/);
    assert.match(want('controlPlanes[1].name', 'CP2'), /upper-case letters/);
    assert.match(want('controlPlanes[2].name', `${'a'.repeat(64)}.example`), /has 64 characters, at most 63/);
    assert.match(want('workers[0].name', '-w1'), /the label "-w1" has a character other than/);
    assert.match(
      text({ ...good(), workers: [{ name: `${'a.'.repeat(127)}a`, address: '10.0.1.1' }] }),
      /is not a valid node name: 255 characters, at most 253/,
    );
  });

  it('warns about an even number of stacked control planes, and refuses nothing for it', () => {
    const doc = good();
    doc.controlPlanes.pop();
    const { spec, warnings } = readClusterFile(write(doc));
    assert.equal(spec.controlPlanes.length, 2);
    assert.deepEqual(
      warnings.map((w) => w.split(':').slice(0, 2).join(':')),
      ['controlPlanes: 2 control planes tolerate no more failures than 1; use 3'],
    );
    assert.deepEqual(readClusterFile(write(good())).warnings, []);
    const etcdHosts = ['etcd1', 'etcd2', 'etcd3'].map((name, i) => ({ name, address: `10.0.2.${i + 1}` }));
    assert.deepEqual(
      readClusterFile(write({ ...doc, topology: 'external', etcd: { hosts: etcdHosts } })).warnings,
      [],
      'external etcd: control planes hold no quorum',
    );
    const four = good();
    four.controlPlanes.push({ name: 'cp4', address: '10.0.0.10' });
    assert.match(
      readClusterFile(write(four)).warnings[0],
      /^controlPlanes: 4 control planes tolerate no more failures than 3; use 5/,
    );
  });

  it('bounds its input: file size, list lengths and the number of problems listed', () => {
    const huge = Array.from({ length: 100_000 }, (_, i) => `unknownKey${i}: ${'x'.repeat(20)}`).join('\n');
    assert.ok(huge.length > 3_000_000);
    const started = Date.now();
    assert.deepEqual(problems(huge), [
      `the cluster file is larger than 2048 KiB (${Buffer.byteLength(huge)} bytes or more); a cluster file is far smaller: is it the right file?`,
    ]);
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 1]));
    const p = problems({ ...good(), ...many });
    assert.equal(p.length, LIMITS.problems + 1);
    assert.equal(p[LIMITS.problems], `and ${5000 - LIMITS.problems} more (fix these first)`);
    assert.ok(Date.now() - started < 10_000);
    const workers = Array.from({ length: 5001 }, (_, i) => ({ name: `w${i}`, address: `10.1.${i >> 8}.${i & 255}` }));
    assert.match(text({ ...good(), workers }), /^workers: has 5001 entries; at most 5000 are allowed$/m);
  });

  it("accepts 5,000 workers, Kubernetes' largest supported cluster, each with a name as long as a node name may be", () => {
    // A worker as large as a file may write it: a 253-character DNS name, an address and a port.
    const name = (i: number) => `worker-${String(i).padStart(4, '0')}.${'rack.'.repeat(46)}example.com`;
    const workers = Array.from({ length: 5000 }, (_, i) => ({
      name: name(i),
      address: `10.${2 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      port: 2222,
    }));
    assert.equal(name(4999).length, 253);
    const file = write({ ...good(), workers });
    const bytes = statSync(file).size;
    assert.ok(bytes > 1024 * 1024 && bytes < LIMITS.fileBytes, `${bytes} bytes`);
    const started = Date.now();
    const { spec } = readClusterFile(file);
    assert.equal(spec.workers.length, 5000);
    assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);
  });

  it('reads the upgrade section: binaries resolved against the file, one source only, the minors on the way, the batch', () => {
    const spec = loadClusterFile(
      write({
        ...good(),
        kubernetesVersion: 'v1.33.2',
        upgrade: { binaries: './k8s', through: ['v1.32.5'], workerBatch: '25%' },
      }),
    );
    assert.deepEqual(spec.upgrade, { binaries: join(dir, 'k8s'), through: ['v1.32.5'], workerBatch: '25%' });
    assert.deepEqual(loadClusterFile(write({ ...good(), upgrade: { packages: 'apt' } })).upgrade, {
      packages: 'apt',
      through: [],
      workerBatch: 1,
    });
    const both = problems({ ...good(), upgrade: { binaries: './k8s', packages: 'apt' } });
    assert.ok(
      both.some((l) => l.startsWith('upgrade: say how the new kubeadm, kubelet and kubectl reach the nodes')),
      both.join('\n'),
    );
    assert.ok(problems({ ...good(), upgrade: {} }).some((l) => l.startsWith('upgrade: say how')));
    const later = problems({ ...good(), upgrade: { packages: 'apt', through: ['v1.31.9'] } });
    assert.ok(
      later.some((l) => l.startsWith('upgrade.through[0]: v1.31.9 is not older than kubernetesVersion v1.31.4')),
      later.join('\n'),
    );
    const batch = problems({ ...good(), upgrade: { packages: 'apt', workerBatch: '0%' } });
    assert.ok(
      batch.some((l) => l.startsWith('upgrade.workerBatch')),
      batch.join('\n'),
    );
    const yum = problems({ ...good(), upgrade: { packages: 'yum' } });
    assert.ok(
      yum.some((l) => l.startsWith('upgrade.packages')),
      yum.join('\n'),
    );
  });

  it('escapes control characters from the file and cuts long values', () => {
    const { name: _, ...rest } = good();
    const p = problems(`${stringify(rest)}"\\e[31mred\\0": 1\nname: "a\\nb\\u202e"\n`);
    const all = p.join('\n');
    // eslint-disable-next-line no-control-regex -- the test looks for raw control characters
    assert.doesNotMatch(all, /[\u0000-\u0009\u000b-\u001f\u007f\u202e]/, 'no raw control character');
    assert.ok(
      p.includes(
        '"\\u001b[31mred\\0": unknown field; known fields are name, kubernetesVersion, topology, etcd, certificates, loadBalancer, networking, kubeletConfiguration, kubeProxyConfiguration, kubeadm, cni, ssh, controlPlanes, workers, approvals, upgrade, taskQueue, workerConcurrency',
      ),
      all,
    );
    assert.ok(
      p.some((l) => l.startsWith('name: "a\\nb\\u202e" must be lower-case letters')),
      all,
    );
    const long = text({ ...good(), loadBalancer: { host: `${'x'.repeat(300)}!` } });
    assert.match(
      long,
      /^loadBalancer\.host: "x{80}\.\.\.\(221 more characters\)" is neither an IP address nor a DNS name$/m,
    );
  });

  it('checkClusterFile without file checks (paths only resolved)', () => {
    const { knownHostsFile: _, ...ssh } = good().ssh;
    const doc = { ...good(), ssh: { ...ssh, privateKeyFile: '~/keys/absent' }, cni: { manifest: 'sub/cni.yaml' } };
    const spec = checkClusterFile(doc, join(dir, 'x.yaml'), false).spec;
    assert.equal(spec.ssh.privateKeyFile, join(homedir(), 'keys/absent'));
    assert.equal(spec.ssh.knownHostsFile, join(homedir(), '.ssh/known_hosts'), 'the default known_hosts');
    assert.equal(spec.cniManifest, join(dir, 'sub/cni.yaml'));
  });

  it("docs/cluster-file.md's cluster files are valid", () => {
    const doc = readFileSync(join(__dirname, '../../../docs/cluster-file.md'), 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]) as Record<string, unknown>);
    assert.ok(blocks.length >= 3, 'stacked, external built, external existing');
    assert.match(doc, /# yaml-language-server: \$schema=/);
    const [stacked, built, existing] = blocks;
    const file = join(dir, 'doc.yaml');
    assert.equal(checkClusterFile(stacked, file, false).spec.topology, 'stacked');
    assert.equal(checkClusterFile(built, file, false).spec.topology, 'external');
    assert.ok('endpoints' in checkClusterFile({ ...stacked, ...existing }, file, false).spec.etcd!);
  });

  it('schema/cluster.schema.json is the one the zod schema generates (npm run schema)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), clusterJsonSchemaText(), 'stale: run npm run schema');
    const schema = JSON.parse(clusterJsonSchemaText());
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties.loadBalancer.additionalProperties, false);
    assert.deepEqual(schema.properties.ssh.properties.hostKeyPolicy.enum, ['strict', 'accept-new']);
  });
});
