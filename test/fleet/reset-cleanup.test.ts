// The reset cleanup (src/kubeadm/reset.ts) over real SSH on stand-in hosts, run as the worker runs
// commands (src/ssh: sudo -n, setsid, bash). Stand-in hosts share the machine's network namespace,
// so the network tools there are stand-ins (fleet/standins/net.ts) over per-host state: the kubelet,
// kube-proxy and flannel chains the stand-in kubeadm init/join put there must go, the host's own
// firewall must stay, and the machine's real iptables, ip6tables and devices must not be touched.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetInfo, fleetDown, fleetUp, readNetInvocations, setFault } from '../../fleet/index';
import { BASELINE, Family, parseTables, readIpvs, readLinks, rulesFile } from '../../fleet/standins/netstate';
import { loadClusterFile } from '../../src/config/cluster-file';
import { resetCleanupCommand } from '../../src/kubeadm/reset';
import { openSession } from '../../src/ssh/session';
import { loadTarget } from '../../src/ssh/target';
import type { HostSession } from '../../src/ssh/types';
import { hostPath, initConfig, joinConfig, put, ssh } from './helpers';
import '../helpers/file-roots';

const K8S_LINE =
  /^:(KUBE-|CNI-|FLANNEL-)|^-A (KUBE-|CNI-|FLANNEL-)|-[jg] (KUBE-|CNI-|FLANNEL-)|-[io] (cni0|flannel\.1)\b/m;

/** The machine's own network state, counters and timestamps aside; other fleets' tagged LB rules come and go. */
function machineNet(): Record<string, string> {
  const save = (tool: string): string => {
    const real = ['/usr/sbin', '/sbin'].map((d) => `${d}/${tool}`).find((p) => fs.existsSync(p));
    if (!real) return `(no ${tool})`;
    return execFileSync(real, { encoding: 'utf8' })
      .split('\n')
      .filter((l) => !l.startsWith('#') && !l.includes('kha-fleet:'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[*]'))
      .join('\n');
  };
  const links = execFileSync('/usr/sbin/ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return {
    iptables: save('iptables-save'),
    ip6tables: save('ip6tables-save'),
    devices: ['cni0', 'flannel.1', 'kube-ipvs0'].filter((d) => links.includes(` ${d}:`)).join(','),
    cni: fs.existsSync('/etc/cni/net.d') ? fs.readdirSync('/etc/cni/net.d').join(',') : '(none)',
    rootKube: fs.existsSync('/root/.kube') ? fs.readdirSync('/root/.kube').join(',') : '(none)',
  };
}

describe('reset cleanup on stand-in hosts', { timeout: 240000 }, () => {
  let dir = '';
  let info: FleetInfo;
  let [CP1, W1, LB] = ['', '', ''];
  const sessions: Record<string, HostSession> = {};
  let machineBefore: Record<string, string>;
  const state = (host: string, f: Family): string => fs.readFileSync(rulesFile(dir, host, f), 'utf8');
  const cleanup = resetCleanupCommand({ userHome: '/home/kha' });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-reset-cleanup-'));
    info = await fleetUp({ dir, controlPlanes: 1, workers: 1 });
    // After up: it makes the (empty) mount points /etc/cni and /root/.kube on the machine.
    machineBefore = machineNet();
    [CP1, W1] = info.hosts.map((h) => h.address);
    LB = info.loadBalancer.host;
    const spec = loadClusterFile(info.clusterFile);
    for (const h of [...spec.controlPlanes, ...spec.workers])
      sessions[h.name] = await openSession(await loadTarget(h, spec.ssh));
  });

  after(async () => {
    for (const s of Object.values(sessions)) await s.close();
    await fleetDown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the stand-ins come first on the login PATH and in sudo's secure_path", () => {
    const tools = 'iptables-save iptables-restore ip6tables-save ip6tables-restore ip ipvsadm';
    const expected =
      tools
        .split(' ')
        .map((t) => `/usr/local/sbin/${t}`)
        .join('\n') + '\n';
    const which = `for t in ${tools}; do command -v $t; done`;
    assert.equal(ssh(dir, CP1, which).stdout, expected);
    assert.equal(ssh(dir, CP1, `sudo -n sh -c '${which}'`).stdout, expected);
    // Without root, as the real ones.
    const r = ssh(dir, CP1, 'iptables-save');
    assert.equal(r.code, 4);
    assert.equal(
      r.stderr,
      'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n',
    );
    assert.equal(ssh(dir, CP1, 'ip link delete cni0').code, 2);
    // A fresh host: its own firewall only, no Kubernetes chains or devices.
    assert.equal(state('cp1', 'iptables'), BASELINE.iptables);
    assert.deepEqual(readLinks(dir, 'cp1'), []);
  });

  it('kubeadm init and join leave the kubelet, kube-proxy and flannel chains and devices (as on a real node)', () => {
    put(dir, CP1, '/var/lib/kubeadm-ha/kubeadm-config.yaml', initConfig(CP1, LB));
    const init = ssh(dir, CP1, 'sudo -n kubeadm init --config /var/lib/kubeadm-ha/kubeadm-config.yaml');
    assert.equal(init.code, 0, init.stderr);
    const m = /--token (\S+) \\\n\t--discovery-token-ca-cert-hash (sha256:[a-f0-9]{64}) \n$/.exec(init.stdout);
    assert.ok(m, init.stdout);
    put(dir, W1, '/var/lib/kubeadm-ha/join-config.yaml', joinConfig({ lb: LB, token: m[1], hash: m[2], name: 'w1' }));
    const join = ssh(dir, W1, 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml');
    assert.equal(join.code, 0, join.stderr);
    for (const host of ['cp1', 'w1']) {
      const save = ssh(dir, host === 'cp1' ? CP1 : W1, 'sudo -n iptables-save');
      assert.equal(save.code, 0, save.stderr);
      assert.match(
        save.stdout,
        /^# Generated by iptables-save v1\.8\.9 \(nf_tables\) on \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n\*filter\n/,
      );
      for (const chain of [
        'KUBE-SERVICES',
        'KUBE-FIREWALL',
        'FLANNEL-FWD',
        'FLANNEL-POSTRTG',
        'KUBE-SVC-NPX46M4PTMTKRN6Y',
      ])
        assert.match(save.stdout, new RegExp(`^:${chain} - \\[0:0\\]$`, 'm'), `${host}: ${chain}`);
      // flannel's lease inside the cluster file's podSubnet (initConfig: 192.168.0.0/16).
      assert.match(
        save.stdout,
        /^-A FLANNEL-FWD -s 192\.168\.0\.0\/16 -m comment --comment "flanneld forward" -j ACCEPT$/m,
      );
      assert.match(ssh(dir, host === 'cp1' ? CP1 : W1, 'sudo -n ip6tables-save').stdout, /^:KUBE-SERVICES - /m);
      assert.deepEqual(
        readLinks(dir, host)
          .map((l) => l.name)
          .sort(),
        ['cni0', 'flannel.1'],
      );
    }
    assert.match(ssh(dir, W1, 'ip link show cni0').stdout, /^\d+: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 /);
    assert.equal(ssh(dir, W1, 'ip link show kube-ipvs0').stderr, 'Device "kube-ipvs0" does not exist.\n');
  });

  it('after kubeadm reset -f, the cleanup removes exactly what Kubernetes and the CNI left', async () => {
    // What flannel's install-cni and an operator following the init epilogue leave.
    put(dir, CP1, '/etc/cni/net.d/10-flannel.conflist', '{"name":"cbr0","cniVersion":"0.3.1"}\n');
    put(dir, CP1, '/root/.kube/config', 'apiVersion: v1\n');
    put(dir, CP1, '/root/.kube/cache/keep', '');
    assert.equal(ssh(dir, CP1, 'mkdir -p ~/.kube && echo "apiVersion: v1" >~/.kube/config').code, 0);
    const reset = ssh(dir, CP1, 'sudo -n kubeadm reset -f');
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(state('cp1', 'iptables'), K8S_LINE, 'kubeadm reset leaves the iptables state, as the real one');

    const before = readNetInvocations(dir, 'cp1').length;
    const r = await sessions.cp1.run(cleanup);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'iptables: removed the KUBE-, CNI- and FLANNEL- chains and their rules',
        'ip6tables: removed the KUBE-, CNI- and FLANNEL- chains and their rules',
        'ip: deleted device cni0',
        'ip: deleted device flannel.1',
        '',
      ].join('\n'),
    );
    for (const f of ['iptables', 'ip6tables'] as const) {
      const text = state('cp1', f);
      assert.doesNotMatch(text, K8S_LINE, f);
      // The host's own firewall is as it was: its filter table, policies included, line for line.
      const filter = (t: string) => parseTables(t).find((x) => x.name === 'filter');
      assert.deepEqual(filter(text), filter(BASELINE[f]), f);
    }
    assert.deepEqual(readLinks(dir, 'cp1'), []);
    assert.deepEqual(fs.readdirSync(hostPath(dir, 'cp1', '/etc/cni/net.d')), [], 'the folder stays, empty');
    assert.equal(fs.existsSync(hostPath(dir, 'cp1', '/root/.kube/config')), false);
    assert.ok(fs.existsSync(hostPath(dir, 'cp1', '/root/.kube/cache/keep')));
    assert.equal(fs.existsSync(hostPath(dir, 'cp1', '/home/kha/.kube/config')), false);
    const runs = readNetInvocations(dir, 'cp1')
      .slice(before)
      .map((i) => `${i.argv.join(' ')} => ${i.exitCode}`);
    assert.deepEqual(runs, [
      'iptables-save => 0',
      'iptables-restore => 0',
      'ip6tables-save => 0',
      'ip6tables-restore => 0',
      'ip link show kube-ipvs0 => 1',
      'ip link show cni0 => 0',
      'ip link delete cni0 => 0',
      'ip link show flannel.1 => 0',
      'ip link delete flannel.1 => 0',
    ]);

    // Again: nothing left to do, nothing restored.
    const seen = readNetInvocations(dir, 'cp1').length;
    const again = await sessions.cp1.run(cleanup);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(again.stdout, '');
    const tools = readNetInvocations(dir, 'cp1')
      .slice(seen)
      .map((i) => i.argv[0]);
    assert.deepEqual(tools, ['iptables-save', 'ip6tables-save', 'ip', 'ip', 'ip']);
  });

  it('IPVS leftovers go with kube-ipvs0; a failing iptables-restore fails the cleanup, a retry finishes it', async () => {
    assert.equal(
      ssh(dir, W1, 'sudo -n ip link add kube-ipvs0 type dummy && sudo -n ipvsadm -A -t 10.96.0.1:443 -s rr').code,
      0,
    );
    assert.match(ssh(dir, W1, 'sudo -n ipvsadm -Ln').stdout, /^TCP {2}10\.96\.0\.1:443 rr$/m);
    setFault(dir, { host: 'w1', command: 'iptables-restore', mode: 'fail-once' });
    const failed = await sessions.w1.run(cleanup);
    assert.equal(failed.exitCode, 1);
    assert.match(failed.stderr, /Another app is currently holding the xtables lock/);
    assert.match(state('w1', 'iptables'), K8S_LINE, 'iptables untouched by the failed restore');
    assert.doesNotMatch(state('w1', 'ip6tables'), K8S_LINE, 'the other parts ran');
    assert.deepEqual(readLinks(dir, 'w1'), []);
    assert.deepEqual(readIpvs(dir, 'w1'), []);
    assert.match(failed.stdout, /^ipvs: cleared the IPVS tables\nip: deleted device kube-ipvs0\n/m);

    const retry = await sessions.w1.run(cleanup);
    assert.equal(retry.exitCode, 0, retry.stderr);
    assert.equal(retry.stdout, 'iptables: removed the KUBE-, CNI- and FLANNEL- chains and their rules\n');
    assert.doesNotMatch(state('w1', 'iptables'), K8S_LINE);
  });

  it("never touched the machine's own iptables, ip6tables, devices, /etc/cni or /root/.kube", () => {
    assert.deepEqual(machineNet(), machineBefore);
  });
});
