// End-to-end test of the local fleet: real sshd hosts, real HAProxy, stand-in kubeadm/kubectl.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetInfo, fleetDown, fleetUp, setFault } from '../../fleet/index';
import { alive, initConfig, joinConfig, lbBackend, pidsOf, put, sh, ssh } from './helpers';

const KUBECTL = 'sudo -n kubectl --kubeconfig /etc/kubernetes/admin.conf';
const HINT = 'To see the stack trace of this error execute with --v=5 or higher\n';

describe('local fleet', { timeout: 180000 }, () => {
  let dir = '';
  let info: FleetInfo;
  let token = '';
  let hash = '';
  let [CP1, CP2, W1, LB] = ['', '', '', ''];
  // Regex-escaped addresses for the exact texts.
  let [eCP2, eW1, eLB] = ['', '', ''];
  const esc = (s: string): string => s.replace(/\./g, '\\.');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-fleet-'));
    const t = Date.now();
    info = await fleetUp({ dir, controlPlanes: 2, workers: 1 });
    console.log(`fleet up: ${Date.now() - t} ms (slot ${info.slot})`);
    [CP1, CP2, W1] = info.hosts.map((h) => h.address);
    LB = info.loadBalancer.host;
    [eCP2, eW1, eLB] = [CP2, W1, LB].map(esc);
  });

  after(async () => {
    await fleetDown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the cluster file, keys and known_hosts', () => {
    const cluster = fs.readFileSync(info.clusterFile, 'utf8');
    assert.match(cluster, new RegExp(`loadBalancer: \\{ host: ${eLB}, port: 6443 \\}`));
    assert.match(cluster, new RegExp(`- \\{ name: cp2, address: ${eCP2} \\}`));
    assert.match(cluster, new RegExp(`workers:\n {2}- \\{ name: w1, address: ${eW1} \\}`));
    assert.match(cluster, new RegExp(`^name: ${info.clusterName}\n`));
    assert.equal(fs.statSync(info.privateKeyFile).mode & 0o777, 0o600);
    const known = fs.readFileSync(info.knownHostsFile, 'utf8').trim().split('\n');
    assert.equal(known.length, 3);
    assert.ok(known[0].startsWith(`[${CP1}]:2222 ssh-ed25519 AAAA`), known[0]);
    assert.match(fs.readFileSync(info.cniManifest, 'utf8'), /kind: DaemonSet/);
  });

  it('isolates hosts: own hostname and /etc/kubernetes', () => {
    assert.equal(ssh(dir, CP1, 'hostname').stdout.trim(), 'cp1');
    assert.equal(ssh(dir, W1, 'hostname', { user: 'root' }).stdout.trim(), 'w1');
    assert.equal(ssh(dir, CP1, 'echo cp1 | sudo -n tee /etc/kubernetes/whoami').code, 0);
    assert.equal(ssh(dir, CP1, 'cat /etc/kubernetes/whoami').stdout, 'cp1\n');
    assert.notEqual(ssh(dir, CP2, 'cat /etc/kubernetes/whoami').code, 0);
    ssh(dir, CP1, 'sudo -n rm /etc/kubernetes/whoami');
    assert.equal(ssh(dir, CP1, 'sudo -n kubeadm version -o short').stdout, 'v1.31.4\n');
  });

  it('kubeadm init prints the epilogue with a token and the real CA hash', () => {
    put(dir, CP1, '/var/lib/kubeadm-ha/kubeadm-config.yaml', initConfig(CP1, LB));
    const t = Date.now();
    const r = ssh(dir, CP1, 'sudo -n kubeadm init --config /var/lib/kubeadm-ha/kubeadm-config.yaml');
    console.log(`init: ${Date.now() - t} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[init\] Using Kubernetes version: v1\.31\.4\n\[preflight\] Running pre-flight checks\n/);
    assert.match(r.stdout, /\nYour Kubernetes control-plane has initialized successfully!\n/);
    assert.match(
      r.stdout,
      new RegExp(
        `You can now join any number of control-plane nodes by copying certificate authorities\nand service account keys on each node and then running the following as root:\n\n {2}kubeadm join ${eLB}:6443 --token [a-z0-9]{6}\\.[a-z0-9]{16} \\\\\n\t--discovery-token-ca-cert-hash sha256:[a-f0-9]{64} \\\\\n\t--control-plane \n`,
      ),
    );
    const m = new RegExp(
      `\nkubeadm join ${eLB}:6443 --token ([a-z0-9]{6}\\.[a-z0-9]{16}) \\\\\n\t--discovery-token-ca-cert-hash (sha256:[a-f0-9]{64}) \n$`,
    ).exec(r.stdout);
    assert.ok(m, r.stdout);
    [token, hash] = [m[1], m[2]];
    const pin = ssh(
      dir,
      CP1,
      'sudo -n cat /etc/kubernetes/pki/ca.crt | openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed "s/^.* //"',
    );
    assert.equal(`sha256:${pin.stdout.trim()}`, hash);
    for (const f of [
      'admin.conf',
      'super-admin.conf',
      'kubelet.conf',
      'manifests/etcd.yaml',
      'manifests/kube-apiserver.yaml',
      'pki/sa.pub',
      'pki/etcd/ca.key',
    ]) {
      assert.equal(ssh(dir, CP1, `sudo -n test -s /etc/kubernetes/${f}`).code, 0, f);
    }
    assert.equal(ssh(dir, CP2, 'sudo -n test -e /etc/kubernetes/admin.conf').code, 1, 'cp2 untouched');
  });

  it('re-running init fails preflight with the exact block and exit 1', () => {
    const r = ssh(dir, CP1, 'sudo -n kubeadm init --config /var/lib/kubeadm-ha/kubeadm-config.yaml');
    assert.equal(r.code, 1);
    const errs = [
      'Port-6443]: Port 6443 is in use',
      'Port-10259]: Port 10259 is in use',
      'Port-10257]: Port 10257 is in use',
      ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map(
        (n) => `FileAvailable--etc-kubernetes-manifests-${n}.yaml]: /etc/kubernetes/manifests/${n}.yaml already exists`,
      ),
      'Port-10250]: Port 10250 is in use',
      'Port-2379]: Port 2379 is in use',
      'Port-2380]: Port 2380 is in use',
      'DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty',
    ];
    const expected = `error execution phase preflight: [preflight] Some fatal errors occurred:\n${errs.map((e) => `\t[ERROR ${e}\n`).join('')}[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\`\n${HINT}`;
    assert.equal(r.stderr, expected);
  });

  it('control-plane join without the shared certificates fails with the preflight text of kubeadm', () => {
    put(
      dir,
      CP2,
      '/var/lib/kubeadm-ha/join-config.yaml',
      joinConfig({ lb: LB, token, hash, name: 'cp2', cpAddress: CP2 }),
    );
    const r = ssh(dir, CP2, 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml');
    assert.equal(r.code, 1);
    const nf = (p: string): string => `open ${p}: no such file or directory`;
    const expected =
      'error execution phase preflight: \nOne or more conditions for hosting a new control plane instance is not satisfied.\n\n' +
      `[failure loading certificate for CA: couldn't load the certificate file /etc/kubernetes/pki/ca.crt: ${nf('/etc/kubernetes/pki/ca.crt')}, ` +
      `failure loading key for service account: couldn't load the private key file /etc/kubernetes/pki/sa.key: ${nf('/etc/kubernetes/pki/sa.key')}, ` +
      `failure loading certificate for front-proxy CA: couldn't load the certificate file /etc/kubernetes/pki/front-proxy-ca.crt: ${nf('/etc/kubernetes/pki/front-proxy-ca.crt')}, ` +
      `failure loading certificate for etcd CA: couldn't load the certificate file /etc/kubernetes/pki/etcd/ca.crt: ${nf('/etc/kubernetes/pki/etcd/ca.crt')}]\n\n` +
      'Please ensure that:\n* The cluster has a stable controlPlaneEndpoint address.\n* The certificates that must be shared among control plane instances are provided.\n\n\n' +
      HINT;
    assert.equal(r.stderr, expected);
  });

  it('join with a bad token or a wrong CA hash fails discovery', () => {
    put(
      dir,
      CP2,
      '/tmp/bad-token.yaml',
      joinConfig({ lb: LB, token: 'abcdef.0123456789abcdef', hash, name: 'cp2', cpAddress: CP2, discovery: '2s' }),
    );
    let r = ssh(dir, CP2, 'sudo -n kubeadm join --config /tmp/bad-token.yaml');
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error execution phase preflight: couldn't validate the identity of the API Server: could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"\n${HINT}`,
    );
    const wrong = 'sha256:' + 'ab'.repeat(32);
    put(dir, CP2, '/tmp/bad-hash.yaml', joinConfig({ lb: LB, token, hash: wrong, name: 'cp2', cpAddress: CP2 }));
    r = ssh(dir, CP2, 'sudo -n kubeadm join --config /tmp/bad-hash.yaml');
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error execution phase preflight: couldn't validate the identity of the API Server: cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${hash}" are pinned\n${HINT}`,
    );
    r = ssh(dir, CP2, 'sudo -n kubeadm join --config /tmp/bad-hash.yaml --xyz');
    assert.equal(r.stderr, `unknown flag: --xyz\n${HINT}`);
  });

  it('after copying the shared certs the control-plane join succeeds and HAProxy routes to it', async () => {
    const files = 'ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key';
    const tar = ssh(dir, CP1, `sudo -n tar -C /etc/kubernetes/pki -cf - ${files} | base64 -w0`).stdout;
    assert.equal(
      ssh(dir, CP2, 'sudo -n mkdir -p /etc/kubernetes/pki && base64 -d | sudo -n tar -C /etc/kubernetes/pki -xf -', {
        input: tar,
      }).code,
      0,
    );
    const t = Date.now();
    const r = ssh(dir, CP2, 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml');
    console.log(`control-plane join: ${Date.now() - t} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /This node has joined the cluster and a new control plane instance was created:/);
    assert.match(r.stdout, /\* A new etcd member was added to the local\/stacked etcd cluster\./);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      seen.add(await lbBackend(LB));
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(seen.has('cp1') && seen.has('cp2'), `LB backends seen: ${[...seen]}`);
    assert.notEqual(
      ssh(dir, CP2, 'sudo -n md5sum /etc/kubernetes/pki/apiserver.crt').stdout.split(' ')[0],
      ssh(dir, CP1, 'sudo -n md5sum /etc/kubernetes/pki/apiserver.crt').stdout.split(' ')[0],
    );
  });

  it('worker join: fail-once fault, then success; re-join fails local preflight', () => {
    setFault(dir, { host: 'w1', command: 'kubeadm join', mode: 'fail-once' });
    const jc = ssh(dir, CP1, 'sudo -n kubeadm token create --print-join-command --ttl 1h');
    assert.equal(jc.code, 0, jc.stderr);
    assert.match(
      jc.stdout,
      new RegExp(
        `^kubeadm join ${eLB}:6443 --token [a-z0-9]{6}\\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[a-f0-9]{64} \n$`,
      ),
    );
    const cmd = `sudo -n ${jc.stdout.trim()}`;
    let r = ssh(dir, W1, cmd);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error execution phase preflight: couldn't validate the identity of the API Server/);
    const t = Date.now();
    r = ssh(dir, W1, cmd);
    console.log(`worker join: ${Date.now() - t} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /This node has joined the cluster:\n\* Certificate signing request was sent to apiserver and a response was received\./,
    );
    r = ssh(dir, W1, cmd);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /\[ERROR FileAvailable--etc-kubernetes-kubelet\.conf\]: \/etc\/kubernetes\/kubelet\.conf already exists/,
    );
  });

  it('kubeadm token delete removes a token from the cluster, as kubeadm prints it', () => {
    const tok = ssh(dir, CP1, 'sudo -n kubeadm token create --ttl 10m').stdout.trim();
    assert.match(tok, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const id = tok.split('.')[0];
    assert.ok(ssh(dir, CP1, 'sudo -n kubeadm token list').stdout.includes(tok));
    const r = ssh(dir, CP1, `sudo -n kubeadm token delete ${id}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `bootstrap token "${id}" deleted\n`);
    assert.ok(!ssh(dir, CP1, 'sudo -n kubeadm token list').stdout.includes(tok));
    const again = ssh(dir, CP1, `sudo -n kubeadm token delete ${id}`);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      new RegExp(
        `failed to delete bootstrap token with name "bootstrap-token-${id}": secrets "bootstrap-token-${id}" not found`,
      ),
    );
  });

  it('kubectl get nodes: NotReady until the CNI is applied, then Ready', () => {
    let r = ssh(dir, CP1, `${KUBECTL} get nodes`);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^NAME {3}STATUS {5}ROLES {11}AGE {3}VERSION$/);
    assert.match(lines[1], /^cp1 {4}NotReady {3}control-plane {3}\d+s {3,}v1\.31\.4$/);
    assert.match(lines[3], /^w1 {5}NotReady {3}<none> {10}\d+s/);
    assert.match(ssh(dir, CP1, `${KUBECTL} get pods -n kube-system`).stdout, /coredns-\S+ +0\/1 +Pending/);
    put(dir, CP1, '/var/lib/kubeadm-ha/cni.yaml', fs.readFileSync(info.cniManifest, 'utf8'));
    r = ssh(dir, CP1, `${KUBECTL} apply -f /var/lib/kubeadm-ha/cni.yaml`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^daemonset\.apps\/kube-flannel-ds created$/m);
    r = ssh(dir, CP2, `${KUBECTL} get nodes --no-headers`);
    assert.deepEqual(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
      ['cp1 Ready', 'cp2 Ready', 'w1 Ready'],
    );
    assert.match(ssh(dir, CP1, `${KUBECTL} get pods -n kube-system`).stdout, /coredns-\S+ +1\/1 +Running/);
    assert.equal(
      ssh(dir, W1, 'sudo -n kubectl get nodes').stderr,
      'The connection to the server localhost:8080 was refused - did you specify the right host or port?\n',
    );
  });

  it('lb drop makes connects time out; lb refuse is refused; normal restores', () => {
    setFault(dir, { lb: 'drop' });
    assert.equal(ssh(dir, W1, 'sudo -n kubeadm reset -f').code, 0);
    const jc = ssh(dir, CP1, 'sudo -n kubeadm token create --print-join-command').stdout;
    assert.equal(jc, '', 'token create needs the API through the LB');
    put(
      dir,
      W1,
      '/var/lib/kubeadm-ha/join-config.yaml',
      joinConfig({ lb: LB, token, hash, name: 'w1', discovery: '2s' }),
    );
    let r = ssh(dir, W1, 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml');
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error execution phase preflight: couldn't validate the identity of the API Server: failed to request the cluster-info ConfigMap: Get "https://${LB}:6443/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": context deadline exceeded\n${HINT}`,
    );
    assert.match(sh(`nc -z -w 1 ${LB} 6443 2>&1; echo rc=$?`), /rc=1/);
    setFault(dir, { lb: 'refuse' });
    r = ssh(dir, CP1, `${KUBECTL} get nodes`);
    assert.equal(
      r.stderr,
      `The connection to the server ${LB}:6443 was refused - did you specify the right host or port?\n`,
    );
    setFault(dir, { lb: 'normal' });
    r = ssh(dir, W1, 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml');
    assert.equal(r.code, 0, r.stderr);
  });

  it("ssh drop blackholes one host's sshd (connects time out), and only that; lb normal leaves it, ssh normal lifts it", () => {
    setFault(dir, { host: 'w1', ssh: 'drop' });
    const connects = (address: string) => sh(`nc -z -w 1 ${address} 2222 2>&1; echo rc=$?`);
    assert.match(connects(W1), /rc=1/);
    assert.match(connects(CP1), /rc=0/);
    assert.match(sh(`nc -z -w 1 ${LB} 6443 2>&1; echo rc=$?`), /rc=0/);
    setFault(dir, { lb: 'drop' });
    setFault(dir, { lb: 'normal' });
    assert.match(connects(W1), /rc=1/, 'lifting the LB drop leaves the SSH drop');
    setFault(dir, { host: 'w1', ssh: 'normal' });
    assert.equal(ssh(dir, W1, 'true').code, 0);
  });

  it('reset on a control plane removes its files, daemons and etcd member', () => {
    const r = ssh(dir, CP2, 'sudo -n kubeadm reset -f');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[reset\] Deleted contents of the etcd data directory: \/var\/lib\/etcd\n/);
    assert.match(
      r.stdout,
      /The reset process does not clean your kubeconfig files and you must remove them manually\.\nPlease, check the contents of the \$HOME\/\.kube\/config file\.\n$/,
    );
    assert.equal(
      ssh(dir, CP2, 'sudo -n ls -A /etc/kubernetes/manifests /var/lib/etcd').stdout.replace(/\s|\S+:/g, ''),
      '',
    );
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'cluster', 'state.json'), 'utf8'));
    assert.deepEqual(
      state.etcdMembers.map((m: { name: string }) => m.name),
      ['cp1'],
    );
  });

  it('down stops every process and removes the iptables rules', async () => {
    setFault(dir, { lb: 'drop' });
    setFault(dir, { host: 'w1', ssh: 'drop' });
    const pids = pidsOf(dir);
    assert.ok(pids.length >= 6, `pids: ${pids}`);
    const t = Date.now();
    await fleetDown(dir);
    console.log(`fleet down: ${Date.now() - t} ms`);
    assert.deepEqual(pids.filter(alive), []);
    assert.ok(!sh('iptables -S OUTPUT').includes(`kha-fleet:${dir}`));
    await fleetDown(dir); // idempotent
  });
});
