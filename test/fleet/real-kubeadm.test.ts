// The stand-in kubeadm hands what needs no kubelet to the real kubeadm of the played release
// (fleet/real-kubeadm.ts): config validation, the certs and kubeconfig phases of init, token
// generate, certs certificate-key. A release without a real binary keeps the stand-in's own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { FleetInfo, fleetDown, fleetUp } from '../../fleet/index';
import { realKubeadmPath } from '../../fleet/real-kubeadm';
import { renderInitConfig } from '../../src/kubeadm/config';
import { hostPath, put, sh, ssh } from './helpers';

const HINT = 'To see the stack trace of this error execute with --v=5 or higher\n';
const CONFIG = '/var/lib/kubeadm-ha/kubeadm-config.yaml';

function initConfigFor(version: string, cp1: string, lb: string): string {
  return renderInitConfig({
    kubernetesVersion: version,
    nodeName: 'cp1',
    advertiseAddress: cp1,
    controlPlaneEndpoint: `${lb}:6443`,
    certSANs: [lb],
    podSubnet: '192.168.0.0/16',
  });
}

async function upOne(version: string): Promise<{ dir: string; info: FleetInfo; CP1: string; LB: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-real-'));
  const info = await fleetUp({ dir, controlPlanes: 1, workers: 0, kubernetesVersion: version });
  return { dir, info, CP1: info.hosts[0].address, LB: info.loadBalancer.host };
}

describe('stand-in kubeadm playing v1.37.2 runs the real kubeadm', { timeout: 180000 }, () => {
  let f: Awaited<ReturnType<typeof upOne>>;
  const pki = (file: string): string => hostPath(f.dir, 'cp1', `/etc/kubernetes/pki/${file}`);
  const verify = (ca: string, cert: string): string => sh(`openssl verify -CAfile ${ca} ${cert} 2>&1`);

  before(async () => {
    assert.ok(fs.existsSync(realKubeadmPath('v1.37.2')), 'run scripts/build-kubernetes.sh v1.37.2');
    f = await upOne('v1.37.2');
  });
  after(async () => {
    await fleetDown(f.dir);
    fs.rmSync(f.dir, { recursive: true, force: true });
  });

  it('config validate rejects an unknown field with the real text', () => {
    put(f.dir, f.CP1, CONFIG, initConfigFor('v1.37.2', f.CP1, f.LB).replace('podSubnet:', 'podSubnett:'));
    const r = ssh(f.dir, f.CP1, `sudo -n kubeadm config validate --config ${CONFIG}`);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: error unmarshaling configuration schema.GroupVersionKind{Group:"kubeadm.k8s.io", Version:"v1beta4", Kind:"ClusterConfiguration"}: ' +
        `strict decoding error: unknown field "networking.podSubnett"\n${HINT}`,
    );
  });

  it('init refuses a config API the release no longer reads, with the real text', () => {
    put(f.dir, f.CP1, CONFIG, initConfigFor('v1.30.14', f.CP1, f.LB).replace('v1.30.14', 'v1.37.2'));
    const r = ssh(f.dir, f.CP1, `sudo -n kubeadm init --config ${CONFIG}`);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'error: your configuration file uses an old API spec: "kubeadm.k8s.io/v1beta3" (kind: "ClusterConfiguration"). Please use kubeadm v1.36 instead and run ' +
        "'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.\n" +
        HINT,
    );
  });

  it('init: an unknown field is logged as the real loader does; real certs and kubeconfigs', () => {
    // timeoutForControlPlane moved to InitConfiguration.timeouts in v1beta4: unknown in apiServer.
    const config = initConfigFor('v1.37.2', f.CP1, f.LB).replace(
      'apiServer:\n',
      'apiServer:\n  timeoutForControlPlane: 4m0s\n',
    );
    put(f.dir, f.CP1, CONFIG, config);
    const r = ssh(f.dir, f.CP1, `sudo -n kubeadm init --config ${CONFIG}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^W\d{4} [\d:.]+ +\d+ initconfiguration\.go:334\] error unmarshaling configuration schema\.GroupVersionKind\{Group:"kubeadm\.k8s\.io", Version:"v1beta4", Kind:"ClusterConfiguration"\}: strict decoding error: unknown field "apiServer\.timeoutForControlPlane"\n/,
    );
    assert.match(
      r.stdout,
      new RegExp(
        `\\[certs\\] apiserver serving cert is signed for DNS names \\[cp1 kubernetes kubernetes\\.default kubernetes\\.default\\.svc kubernetes\\.default\\.svc\\.cluster\\.local\\] and IPs \\[10\\.96\\.0\\.1 ${f.CP1.replace(/\./g, '\\.')} ${f.LB.replace(/\./g, '\\.')}\\]\n`,
      ),
    );
    assert.match(r.stdout, /\[kubeconfig\] Writing "super-admin\.conf" kubeconfig file\n/);

    for (const [ca, certs] of [
      ['ca', ['apiserver', 'apiserver-kubelet-client']],
      ['front-proxy-ca', ['front-proxy-client']],
      ['etcd/ca', ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client']],
    ] as const) {
      for (const c of certs) assert.equal(verify(pki(`${ca}.crt`), pki(`${c}.crt`)), `${pki(`${c}.crt`)}: OK\n`);
    }
    const san = new crypto.X509Certificate(fs.readFileSync(pki('apiserver.crt'))).subjectAltName;
    assert.equal(
      san,
      `DNS:cp1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:${f.CP1}, IP Address:${f.LB}`,
    );

    const admin = parse(fs.readFileSync(hostPath(f.dir, 'cp1', '/etc/kubernetes/admin.conf'), 'utf8'));
    const clientCert = path.join(f.dir, 'admin-client.crt');
    fs.writeFileSync(clientCert, Buffer.from(admin.users[0].user['client-certificate-data'], 'base64'));
    assert.equal(verify(pki('ca.crt'), clientCert), `${clientCert}: OK\n`);
    assert.match(
      new crypto.X509Certificate(fs.readFileSync(clientCert)).subject,
      /O=kubeadm:cluster-admins\nCN=kubernetes-admin/,
    );
    // The stand-in API server accepts the real admin.conf (NotReady: no CNI applied yet).
    const nodes = ssh(f.dir, f.CP1, 'sudo -n kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes --no-headers');
    assert.match(nodes.stdout, /^cp1 +NotReady +control-plane +\S+ +v1\.37\.2\n$/, nodes.stderr);
  });

  it('token generate and certs certificate-key come from the real binary', () => {
    assert.match(ssh(f.dir, f.CP1, 'sudo -n kubeadm token generate').stdout, /^[a-z0-9]{6}\.[a-z0-9]{16}\n$/);
    assert.match(ssh(f.dir, f.CP1, 'sudo -n kubeadm certs certificate-key').stdout, /^[a-f0-9]{64}\n$/);
    const r = ssh(f.dir, f.CP1, 'sudo -n kubeadm token generate --bogus');
    assert.deepEqual([r.code, r.stderr.split('\n')[0]], [1, 'error: unknown flag: --bogus']);
  });
});

describe('stand-in kubeadm playing v1.31.4 (no real binary) keeps its own implementation', { timeout: 180000 }, () => {
  let f: Awaited<ReturnType<typeof upOne>>;
  before(async () => {
    f = await upOne('v1.31.4');
  });
  after(async () => {
    await fleetDown(f.dir);
    fs.rmSync(f.dir, { recursive: true, force: true });
  });

  it('init works, its certificates verify, the phases stay unimplemented', () => {
    put(f.dir, f.CP1, CONFIG, initConfigFor('v1.31.4', f.CP1, f.LB));
    const r = ssh(f.dir, f.CP1, `sudo -n kubeadm init --config ${CONFIG}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Your Kubernetes control-plane has initialized successfully!/);
    const ca = hostPath(f.dir, 'cp1', '/etc/kubernetes/pki/ca.crt');
    const crt = hostPath(f.dir, 'cp1', '/etc/kubernetes/pki/apiserver.crt');
    assert.equal(sh(`openssl verify -CAfile ${ca} ${crt} 2>&1`), `${crt}: OK\n`);
    const phase = ssh(f.dir, f.CP1, 'sudo -n kubeadm init phase certs all');
    assert.deepEqual(
      [phase.code, phase.stderr],
      [1, `the fleet stand-in does not implement "kubeadm init phase certs"\n${HINT}`],
    );
    assert.match(ssh(f.dir, f.CP1, 'sudo -n kubeadm token generate').stdout, /^[a-z0-9]{6}\.[a-z0-9]{16}\n$/);
  });
});
