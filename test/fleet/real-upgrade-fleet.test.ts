// A real fleet ready for an in-place upgrade, as kubeadm-ha does one: the nodes also hold the next
// release's images (upgradeImages), and its kubeadm and kubelet installed over /usr/bin with
// `install` replace the release's symlinks with files in the node's own layer, run at once (the
// kubelet after `systemctl restart kubelet`), and leave the cached build in .tools untouched.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../helpers/file-roots';
import { describe, it } from 'node:test';
import { fleetDown, fleetUp, kubernetesBinDir } from '../../fleet';
import { REAL_FLEET_VERSIONS } from '../../fleet/real-kubeadm';
import { realFleetWithSession } from './helpers';
import { shellQuote } from '../../src/common/shell-quote';
import { kubeletEtcdFiles } from '../../src/kubeadm/external-etcd';

const [FROM, TO] = REAL_FLEET_VERSIONS;
const STAGE = '/var/tmp/kha-upgrade';
const PID_FILE = '/run/kha-node/host/run/kubelet.pid';

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Every file of a release's build folder and its SHA-256. */
async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = await sha256(join(dir, f));
  return out;
}

describe(`a real fleet at ${FROM} with ${TO}'s images, upgraded in place`, () => {
  let cacheBefore: Record<string, string>;
  const t = realFleetWithSession(
    'kha-real-upgrade-',
    { controlPlanes: 1, workers: 0, real: true, kubernetesVersion: FROM, upgradeImages: TO },
    async () => {
      cacheBefore = await digests(kubernetesBinDir(FROM));
    },
  );
  const { dir, run } = t;

  it('refuses a release whose images are not built, naming the build command, and upgradeImages without real', async () => {
    const other = mkdtempSync(join(tmpdir(), 'kha-real-upgrade-bad-'));
    try {
      await assert.rejects(
        fleetUp({ dir: other, controlPlanes: 1, workers: 0, kubernetesVersion: FROM, upgradeImages: TO }),
        /--upgrade-images needs a real fleet/,
      );
      await assert.rejects(
        fleetUp({
          dir: other,
          controlPlanes: 1,
          workers: 0,
          real: true,
          kubernetesVersion: FROM,
          upgradeImages: 'v1.99.0',
        }),
        /bash scripts\/build-real\.sh v1\.99\.0/,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("holds both releases' images, and kubeadm, kubelet and kubectl as symlinks into the release folder", async () => {
    assert.equal(t.fleet.upgradeImages, TO);
    const images = await run('ctr -n k8s.io images ls -q');
    for (const v of [FROM, TO])
      for (const name of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'])
        assert.ok(images.includes(`registry.k8s.io/${name}:${v}`), `${name}:${v} in ${images}`);
    for (const b of ['kubeadm', 'kubelet', 'kubectl'])
      assert.equal(await run(`readlink /usr/bin/${b}`), `/run/kha-node/bin/${b}`, `/usr/bin/${b} is a symlink`);
    assert.equal(await run('kubeadm version -o short'), FROM);
    assert.equal(await run('kubelet --version'), `Kubernetes ${FROM}`);
  });

  it(`install replaces kubeadm and kubelet with ${TO}'s, and systemctl restart runs the new kubelet`, async () => {
    // A kubelet that runs without a cluster (the external-etcd guide's configuration), started at FROM.
    await run('systemctl stop kubelet');
    await run(
      `mkdir -p /etc/systemd/system/kubelet.service.d && printf '%s\\n' '[Service]' 'ExecStart=' 'ExecStart=/usr/bin/kubelet --config=/etc/kubelet-standalone.yaml' > /etc/systemd/system/kubelet.service.d/20-test.conf`,
    );
    await run(
      `printf '%s' ${shellQuote(kubeletEtcdFiles({ cgroupDriver: 'cgroupfs', failCgroupV1: false })[0].content)} > /etc/kubelet-standalone.yaml`,
    );
    await run('systemctl enable --now kubelet');
    const first = await waitFor(
      async () =>
        (await t.session.run(`systemctl is-active kubelet >/dev/null && cat ${PID_FILE}`)).stdout.trim() || undefined,
    );
    assert.equal(await run(`readlink /proc/${first}/exe`), '/run/kha-node/bin/kubelet');

    // Staged, checked against the build's .sha256 (as dl.k8s.io publishes it), installed as kubeadm-ha does.
    const bin = kubernetesBinDir(TO);
    for (const b of ['kubeadm', 'kubelet']) {
      const sum = readFileSync(join(bin, `${b}.sha256`), 'utf8');
      assert.match(sum, /^[0-9a-f]{64}\n$/);
      await t.session.writeFile(`${STAGE}/${b}`, readFileSync(join(bin, b)), { mode: 0o755 });
      assert.equal(await run(`sha256sum ${STAGE}/${b} | cut -d' ' -f1`), sum.trim());
      await run(`install -D -m 0755 -o root -g root ${STAGE}/${b} /usr/bin/${b}`);
      await run(`test -f /usr/bin/${b} && test ! -L /usr/bin/${b}`);
    }
    assert.equal(await run('kubeadm version -o short'), TO);
    assert.equal(
      await run('readlink /usr/bin/kubectl'),
      '/run/kha-node/bin/kubectl',
      'kubectl not installed: still FROM',
    );

    await run('systemctl restart kubelet');
    const second = await waitFor(async () => {
      const pid = await run(`cat ${PID_FILE} 2>/dev/null || true`);
      return pid && pid !== first ? pid : undefined;
    });
    assert.equal(await run('kubelet --version'), `Kubernetes ${TO}`);
    assert.equal(await run(`readlink /proc/${second}/exe`), '/usr/bin/kubelet');
    // It keeps running (the service loop would start yet another one after a crash).
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await run(`systemctl is-active kubelet && cat ${PID_FILE}`), `active\n${second}`);
    // The new files are the node's own: in its /usr layer on the machine.
    const layer = join(t.fleet.dir, 'hosts', 'cp1', 'layers', 'usr', 'upper', 'bin');
    for (const b of ['kubeadm', 'kubelet'])
      assert.equal(await sha256(join(layer, b)), readFileSync(join(bin, `${b}.sha256`), 'utf8').trim());
  });

  it(`leaves ${FROM}'s cached build unchanged, and down removes the node's layers`, async () => {
    assert.deepEqual(await digests(kubernetesBinDir(FROM)), cacheBefore);
    await t.session.close();
    await fleetDown(dir);
    assert.ok(!existsSync(join(dir, 'hosts', 'cp1', 'layers')), 'no layers left');
    assert.deepEqual(await digests(kubernetesBinDir(FROM)), cacheBefore);
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
