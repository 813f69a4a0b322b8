// The fleet's timing, invocation log, phase faults, node roles and etcd membership, on one fleet:
// what a killed or half-failed kubeadm leaves behind must be what the real one leaves.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetInfo, Invocation, fleetDown, fleetUp, readInvocations, setFault, setTiming } from '../../fleet/index';
import { hostPath, initConfig, joinConfig, put, ssh, sshStart, waitFor } from './helpers';

const KUBECTL = 'sudo -n kubectl --kubeconfig /etc/kubernetes/admin.conf';
const ETCDCTL =
  '-- etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key';
const HINT = 'To see the stack trace of this error execute with --v=5 or higher\n';
const INIT = 'sudo -n kubeadm init --config /var/lib/kubeadm-ha/kubeadm-config.yaml';
const JOIN = 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml';
const cli = (...args: string[]): string => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '../../fleet/cli.js'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

describe('fleet timing, invocations, phase faults, roles, etcd', { timeout: 240000 }, () => {
  let dir = '';
  let info: FleetInfo;
  let [CP1, CP2, W1, LB] = ['', '', '', ''];
  let token = '';
  let hash = '';
  const exists = (host: string, file: string): boolean => fs.existsSync(hostPath(dir, host, file));
  const roles = (): Record<string, string> =>
    Object.fromEntries(
      ssh(dir, CP1, `${KUBECTL} get nodes --no-headers`)
        .stdout.trim()
        .split('\n')
        .map((l) => l.split(/\s+/))
        .map((f) => [f[0], f[2]]),
    );
  const members = (): string[] =>
    ssh(dir, CP1, `${KUBECTL} -n kube-system exec etcd-cp1 ${ETCDCTL} member list`).stdout.trim().split('\n');
  /** Runs `command` over SSH and SIGKILLs its kubeadm (pid from the invocation log) once `ready` holds. */
  async function killMidway(host: string, address: string, command: string, ready: () => boolean): Promise<Invocation> {
    const before = readInvocations(dir, host).length;
    const session = sshStart(dir, address, command);
    const inv = await waitFor('the invocation record', () => readInvocations(dir, host)[before]);
    await waitFor('the phase to be reached', ready);
    process.kill(inv.pid, 'SIGKILL');
    assert.notEqual((await session).code, 0);
    return inv;
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-phases-'));
    info = await fleetUp({ dir, controlPlanes: 2, workers: 1, timing: { initMs: 3000, joinMs: 1000 } });
    [CP1, CP2, W1] = info.hosts.map((h) => h.address);
    LB = info.loadBalancer.host;
    put(dir, CP1, '/var/lib/kubeadm-ha/kubeadm-config.yaml', initConfig(CP1, LB));
  });

  after(async () => {
    await fleetDown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an init killed in wait-control-plane has no end record and leaves certs, kubeconfigs and manifests', async () => {
    const inv = await killMidway('cp1', CP1, INIT, () => fs.existsSync(path.join(dir, 'hosts/cp1/run/kubelet.pid')));
    const rec = readInvocations(dir, 'cp1').find((x) => x.pid === inv.pid)!;
    assert.deepEqual(rec.argv, ['init', '--config', '/var/lib/kubeadm-ha/kubeadm-config.yaml']);
    assert.equal(rec.end, undefined);
    // kubeadm's order: certs, kubeconfig (admin.conf and kubelet.conf), etcd, control-plane, kubelet-start.
    for (const f of [
      'pki/ca.crt',
      'admin.conf',
      'super-admin.conf',
      'kubelet.conf',
      'manifests/etcd.yaml',
      'manifests/kube-apiserver.yaml',
    ])
      assert.ok(exists('cp1', `/etc/kubernetes/${f}`), f);
    assert.ok(exists('cp1', '/var/lib/kubelet/config.yaml'));
    assert.ok(!fs.existsSync(path.join(dir, 'hosts/cp1/run/apiserver.pid')), 'the API server never came up');
    assert.match(ssh(dir, CP1, INIT).stderr, /\[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver\.yaml\]/);
  });

  it("a wait-control-plane fault fails init there with kubeadm's text, after the same files", () => {
    assert.equal(ssh(dir, CP1, 'sudo -n kubeadm reset -f').code, 0);
    assert.ok(!exists('cp1', '/etc/kubernetes/admin.conf'));
    setTiming(dir, { initMs: 0 });
    setFault(dir, { host: 'cp1', command: 'kubeadm init', mode: 'fail-once', phase: 'wait-control-plane' });
    const r = ssh(dir, CP1, INIT);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\[api-check\] Waiting for a healthy API server\. This can take up to 4m0s\n$/);
    assert.ok(
      r.stderr.endsWith(
        "\nerror execution phase wait-control-plane: couldn't initialize a Kubernetes cluster\n" + HINT,
      ),
      r.stderr,
    );
    for (const f of ['admin.conf', 'kubelet.conf', 'manifests/kube-apiserver.yaml'])
      assert.ok(exists('cp1', `/etc/kubernetes/${f}`), f);
    assert.equal(ssh(dir, CP1, 'sudo -n kubeadm reset -f').code, 0);
  });

  it('init takes at least the configured time and registers the node, then labels it control-plane', () => {
    cli('timing', '--dir', dir, '--init-ms', '2000');
    const t = Date.now();
    const r = ssh(dir, CP1, INIT);
    const took = Date.now() - t;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(took >= 2000 && took < 30000, `init took ${took} ms`);
    const m = /\nkubeadm join \S+ --token (\S+) \\\n\t--discovery-token-ca-cert-hash (sha256:[a-f0-9]{64}) \n$/.exec(
      r.stdout,
    );
    assert.ok(m, r.stdout);
    [token, hash] = [m[1], m[2]];
    assert.equal(roles().cp1, 'control-plane');
  });

  it('the invocation log: start and end per run, no overlap on a host, exactly one init succeeded', () => {
    assert.equal(ssh(dir, CP1, '/usr/local/sbin/kubeadm version -o short').code, 0, 'recorded without sudo too');
    const all = readInvocations(dir, 'cp1');
    const inits = all.filter((x) => x.argv[0] === 'init');
    assert.deepEqual(
      inits.map((x) => x.exitCode),
      [undefined, 1, 1, 0],
    );
    assert.equal(inits.filter((x) => x.exitCode === 0).length, 1);
    assert.ok(inits[3].end! - inits[3].start >= 2000);
    assert.deepEqual(all.at(-1)!.argv, ['version', '-o', 'short']);
    assert.equal(all.at(-1)!.exitCode, 0);
    for (let i = 1; i < all.length; i++)
      assert.ok((all[i - 1].end ?? all[i - 1].start) <= all[i].start, `invocations ${i - 1} and ${i} overlap`);
  });

  it('a worker join killed in the TLS bootstrap leaves bootstrap-kubelet.conf but no kubelet.conf', async () => {
    put(dir, W1, '/var/lib/kubeadm-ha/join-config.yaml', joinConfig({ lb: LB, token, hash, name: 'w1' }));
    setTiming(dir, { joinMs: 5000 });
    await killMidway('w1', W1, JOIN, () => exists('w1', '/etc/kubernetes/bootstrap-kubelet.conf'));
    assert.ok(exists('w1', '/var/lib/kubelet/config.yaml'));
    assert.ok(!exists('w1', '/etc/kubernetes/kubelet.conf'));
    assert.equal(roles().w1, undefined, 'no Node yet');
    assert.equal(ssh(dir, W1, 'sudo -n kubeadm reset -f').code, 0);
  });

  it('a kubelet-start fault after the TLS bootstrap: kubelet.conf and the Node exist; reset, then the join succeeds in the configured time', () => {
    setTiming(dir, { joinMs: 1500 });
    setFault(dir, { host: 'w1', command: 'kubeadm join', mode: 'fail-once', phase: 'kubelet-start' });
    let r = ssh(dir, W1, JOIN);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error execution phase kubelet-start: error uploading crisocket: timed out waiting for the condition\n${HINT}`,
    );
    assert.ok(exists('w1', '/etc/kubernetes/kubelet.conf'));
    assert.ok(!exists('w1', '/etc/kubernetes/bootstrap-kubelet.conf'), 'removed when the phase returns');
    assert.equal(roles().w1, '<none>');
    assert.match(ssh(dir, W1, JOIN).stderr, /\[ERROR FileAvailable--etc-kubernetes-kubelet\.conf\]/);
    assert.equal(ssh(dir, W1, 'sudo -n kubeadm reset -f').code, 0);
    const t = Date.now();
    r = ssh(dir, W1, JOIN);
    const took = Date.now() - t;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(took >= 1500 && took < 30000, `join took ${took} ms`);
  });

  it('a control-plane join failing at etcd leaves a Node without the role and no member; reset keeps the Node; the re-join labels it', () => {
    const files = 'ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key';
    const tar = ssh(dir, CP1, `sudo -n tar -C /etc/kubernetes/pki -cf - ${files} | base64 -w0`).stdout;
    const copyCerts = (): void =>
      assert.equal(
        ssh(dir, CP2, 'sudo -n mkdir -p /etc/kubernetes/pki && base64 -d | sudo -n tar -C /etc/kubernetes/pki -xf -', {
          input: tar,
        }).code,
        0,
      );
    copyCerts();
    put(
      dir,
      CP2,
      '/var/lib/kubeadm-ha/join-config.yaml',
      joinConfig({ lb: LB, token, hash, name: 'cp2', cpAddress: CP2 }),
    );
    setTiming(dir, { joinMs: 0 });
    cli('fault', '--dir', dir, '--host', 'cp2', '--command', 'kubeadm join', '--mode', 'fail-once', '--phase', 'etcd');
    let r = ssh(dir, CP2, JOIN);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error execution phase control-plane-join/etcd: error creating local etcd static pod manifest file: etcdserver: re-configuration failed due to not enough started members\n${HINT}`,
    );
    assert.ok(exists('cp2', '/etc/kubernetes/kubelet.conf'));
    assert.ok(exists('cp2', '/etc/kubernetes/manifests/kube-apiserver.yaml'));
    assert.ok(!exists('cp2', '/etc/kubernetes/manifests/etcd.yaml'));
    assert.equal(roles().cp2, '<none>');
    assert.equal(members().length, 1);
    assert.equal(ssh(dir, CP2, 'sudo -n kubeadm reset -f').code, 0);
    assert.equal(roles().cp2, '<none>', 'reset leaves the Node object');
    copyCerts();
    r = ssh(dir, CP2, JOIN);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[mark-control-plane\] Marking the node cp2 as control-plane/);
    assert.equal(roles().cp2, 'control-plane');
  });

  it('etcdctl member list/remove through kubectl exec of the etcd pod, and its errors', async () => {
    const list = members();
    assert.equal(list.length, 2);
    const ids = list.map((l) => {
      const m = /^([0-9a-f]{16}), started, (cp[12]), https:\/\/([\d.]+):2380, https:\/\/\3:2379, false$/.exec(l);
      assert.ok(m, l);
      assert.equal(m[3], m[2] === 'cp1' ? CP1 : CP2);
      return m[1];
    });
    const json = JSON.parse(
      ssh(dir, CP1, `${KUBECTL} -n kube-system exec etcd-cp1 ${ETCDCTL} member list -w json`).stdout.replace(
        /:(\d{16,})/g,
        ':"$1"',
      ),
    );
    assert.deepEqual(
      json.members.map((m: { ID: string }) => BigInt(m.ID).toString(16)),
      ids,
    );
    const cp2 = ids[list.findIndex((l) => l.includes(', cp2,'))];
    let r = ssh(dir, CP1, `${KUBECTL} -n kube-system exec etcd-cp1 ${ETCDCTL} member remove ${cp2}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Member ${cp2} removed from cluster [0-9a-f]{16}\n$`));
    assert.equal(members().length, 1);
    r = ssh(dir, CP1, `${KUBECTL} -n kube-system exec etcd-cp1 ${ETCDCTL} member remove ${cp2}`);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: etcdserver: member not found\ncommand terminated with exit code 1\n');
    r = ssh(dir, CP1, `${KUBECTL} -n kube-system exec etcd-cp9 ${ETCDCTL} member list`);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (NotFound): pods "etcd-cp9" not found\n');
    assert.equal(ssh(dir, CP2, 'sudo -n kubeadm reset -f').code, 0);
    // HAProxy needs two failed checks (1 s) to stop routing to cp2's API server, like a real LB.
    await waitFor(
      'the LB to drop cp2',
      () =>
        (r = ssh(dir, CP1, `${KUBECTL} -n kube-system exec etcd-cp2 ${ETCDCTL} member list`)).stderr !==
        'Unable to connect to the server: EOF\n',
    );
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: unable to upgrade connection: container not found ("etcd")\n');
  });

  it('a persistent fail fault fails every time until cleared', () => {
    setFault(dir, { host: 'w1', command: 'kubeadm token list', mode: 'fail', message: 'boom' });
    for (let i = 0; i < 2; i++) assert.equal(ssh(dir, W1, 'sudo -n kubeadm token list').stderr, `boom\n${HINT}`);
    cli('fault', '--dir', dir, '--clear');
    assert.doesNotMatch(ssh(dir, W1, 'sudo -n kubeadm token list').stderr, /boom/);
  });
});
