// The real fleet's nodes as a machine would have them, before kubeadm touches them: the kubelet
// unit as the packages install it, systemctl as kubeadm and the page use it, containerd with the
// images under kubeadm's names, and nothing outside the fleet changed: the machine's sysctls, its
// routes and iptables rules, its /var/lib/kubelet. `down` leaves no process, cgroup or address.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import '../helpers/file-roots';
import { describe, it } from 'node:test';
import { fleetDown } from '../../fleet';
import { REAL_FLEET_VERSIONS } from '../../fleet/real-kubeadm';
import { slotCgroups } from '../../fleet/real/cgroups';
import { shellQuote } from '../../src/common/shell-quote';
import { kubeletEtcdFiles } from '../../src/kubeadm/external-etcd';
import { realFleetWithSession } from './helpers';

const VERSION = REAL_FLEET_VERSIONS[REAL_FLEET_VERSIONS.length - 1];
const machine = () => ({
  sysctls: ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops', 'net/ipv4/ip_forward'].map((k) =>
    execFileSync('cat', [`/proc/sys/${k}`], { encoding: 'utf8' }).trim(),
  ),
  routes: execFileSync('ip', ['route'], { encoding: 'utf8' }),
  iptables: execFileSync('iptables', ['-S'], { encoding: 'utf8' }),
  kubeletDir: existsSync('/var/lib/kubelet') ? readdirSync('/var/lib/kubelet') : [],
  cni: existsSync('/etc/cni/net.d'),
});

describe(`a real fleet node (${VERSION}) before kubeadm`, () => {
  const before0 = machine();
  const t = realFleetWithSession('kha-real-node-', {
    controlPlanes: 1,
    workers: 1,
    real: true,
    kubernetesVersion: VERSION,
  });
  const { dir, run } = t;

  it("is its own host: hostname, address, kubeadm of the release, containerd with the images under kubeadm's names", async () => {
    assert.equal(await run('hostname'), 'cp1');
    assert.match(
      await run('ip -4 -o addr show eth0'),
      new RegExp(` ${t.fleet.hosts[0].address.replace(/\./g, '\\.')}/24 `),
    );
    assert.equal(await run('kubeadm version -o short'), VERSION);
    const images = await run('ctr -n k8s.io images ls -q');
    for (const name of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'])
      assert.ok(images.includes(`registry.k8s.io/${name}:${VERSION}`), `${name} in ${images}`);
    assert.match(images, /^registry\.k8s\.io\/etcd:3\.\d+\.\d+-0$/m);
    assert.match(images, /^registry\.k8s\.io\/pause:/m);
    // The page's load balancer probe: a connection to HAProxy on the fleet bridge succeeds, no timeout.
    await run(`nc -v -w 2 ${t.fleet.loadBalancer.host} ${t.fleet.loadBalancer.port} </dev/null`);
  });

  it('systemctl answers as kubeadm asks, and the unit runs what its drop-ins say', async () => {
    assert.equal(await run('systemctl is-enabled kubelet'), 'enabled');
    await run('systemctl stop kubelet');
    assert.equal(await run('systemctl is-active kubelet', 3), 'inactive');
    assert.match(
      await run('systemctl status kubelet', 3),
      /Loaded: loaded \(\/lib\/systemd\/system\/kubelet\.service; enabled/,
    );
    // A drop-in with an ExecStart override (the external-etcd guide's) and a kubelet that runs without a cluster.
    await run(
      `mkdir -p /etc/systemd/system/kubelet.service.d && printf '%s\\n' '[Service]' 'ExecStart=' 'ExecStart=/usr/bin/kubelet --config=/etc/kubelet-standalone.yaml' > /etc/systemd/system/kubelet.service.d/20-test.conf`,
    );
    // The external-etcd guide's kubelet configuration, with the fleet's cgroup settings.
    await run(
      `printf '%s' ${shellQuote(kubeletEtcdFiles({ cgroupDriver: 'cgroupfs', failCgroupV1: false })[0].content)} > /etc/kubelet-standalone.yaml`,
    );
    assert.equal(
      await run('systemctl daemon-reload && systemctl enable --now kubelet'),
      'Created symlink /etc/systemd/system/multi-user.target.wants/kubelet.service → /lib/systemd/system/kubelet.service.',
    );
    const pidFile = '/run/kha-node/host/run/kubelet.pid';
    const first = await waitFor(
      async () => (await t.session.run(`systemctl is-active kubelet && cat ${pidFile}`)).stdout.trim().split('\n')[1],
    );
    assert.equal(
      await run(`tr '\\0' ' ' < /proc/${first}/cmdline`),
      '/usr/bin/kubelet --config=/etc/kubelet-standalone.yaml',
    );
    await run('systemctl restart kubelet');
    const second = await waitFor(async () => {
      const pid = await run(`cat ${pidFile} 2>/dev/null || true`);
      return pid && pid !== first ? pid : undefined;
    });
    assert.notEqual(second, first, 'restart runs a new kubelet');
    assert.equal(
      await run(`tr '\\0' ' ' < /proc/${second}/cmdline`),
      '/usr/bin/kubelet --config=/etc/kubelet-standalone.yaml',
    );
  });

  it('changes nothing outside the fleet, and down removes every process, cgroup and address', async () => {
    assert.deepEqual(machine(), before0, 'sysctls, routes, iptables, /var/lib/kubelet and /etc/cni of the machine');
    await t.session.close();
    await fleetDown(dir);
    assert.deepEqual(slotCgroups(t.fleet.slot), [], 'no cgroup left');
    assert.doesNotMatch(
      execFileSync('ip', ['-o', 'addr', 'show', 'lo'], { encoding: 'utf8' }),
      new RegExp(`198\\.18\\.${t.fleet.slot}\\.`),
    );
    assert.deepEqual(machine(), before0);
  });
});

async function waitFor(probe: () => Promise<string | undefined>, ms = 30_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
