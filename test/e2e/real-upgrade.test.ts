// Upgrading real clusters (the real fleet: containerd, the real kubelet, kubeadm and etcd, HAProxy)
// across one minor, the two newest releases the fleet builds, through the CLI and worker as they
// ship: a stacked 3+2 cluster, and an external-etcd one whose etcd hosts keep their etcd. The binaries come from the folder the build caches them in, each with its
// .sha256 as dl.k8s.io publishes them. The worker is SIGKILLed during the real `kubeadm upgrade
// apply` and again during a control plane's drain; a PodDisruptionBudget stops a worker's drain,
// which parks and goes on with --disable-eviction. Then every Node reports the new kubelet and is
// Ready and schedulable, the control planes' static pods are at the new version, the backup's
// snapshot is on cp1 with the digest the run printed, and each `upgrade apply` and `upgrade node`
// ran once per node (the hosts' kubeadm invocation logs).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { FleetInfo, FleetOptions } from '../../fleet';
import { readInvocations } from '../../fleet/invocations';
import { kubernetesBinDir, REAL_FLEET_VERSIONS } from '../../fleet/real-kubeadm';
import { main } from '../../src/client/cli';
import { KUBECTL } from '../../src/kubeadm/paths';
import { sessionPool } from '../../src/ssh/pool';
import { eventually, onHost, Rig } from '../helpers/harness';

const [FROM, TO] = REAL_FLEET_VERSIONS.slice(-2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One real fleet at FROM with TO's images, its dev server and worker, for a describe; torn down after it. */
function upgradeRig(nodes: Pick<FleetOptions, 'controlPlanes' | 'workers' | 'etcdHosts'>) {
  const rig = new Rig();
  const t = {
    rig,
    fleet: undefined as unknown as FleetInfo,
    sh: (host: string, cmd: string) => onHost(t.fleet, host, cmd),
    cli: async (args: string[]) => {
      const out: string[] = [];
      const code = await main([...args, '--address', rig.server.address], (s) => out.push(s));
      return { code, out: out.join('\n') };
    },
    /**
     * "<node> <kubelet version> <Ready> <unschedulable>" per Node, sorted, asked on cp1. Tried for up to
     * a minute: right after a control plane's upgrade its API server has answered Forbidden to
     * kubernetes-admin for a few seconds (seen on the external-etcd cluster), though its /readyz said ok.
     */
    nodeRows: async () =>
      (
        await onHost(
          t.fleet,
          'cp1',
          `for i in $(seq 30); do out=$(${KUBECTL} get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status} {.spec.unschedulable}{"\\n"}{end}' 2>&1) && { echo "$out"; exit 0; }; sleep 2; done; echo "$out" >&2; exit 1`,
        )
      )
        .split('\n')
        .map((l) => l.trim())
        .sort(),
    /** The fleet's cluster file at TO, with the build's cache as the binaries folder (<folder>/<version>/kubeadm and kubeadm.sha256). */
    upgradeFile: () => {
      const doc = parse(readFileSync(t.fleet.clusterFile, 'utf8')) as Record<string, unknown>;
      doc.kubernetesVersion = TO;
      doc.upgrade = { binaries: dirname(kubernetesBinDir(TO)) };
      const path = join(dirname(t.fleet.clusterFile), 'upgrade.yaml');
      writeFileSync(path, stringify(doc));
      return path;
    },
  };
  before(async () => {
    await rig.up();
    t.fleet = await rig.fleet({ ...nodes, real: true, kubernetesVersion: FROM, upgradeImages: TO });
  });
  after(async () => {
    await sessionPool().closeAll();
    await rig.down();
  });
  return t;
}

describe(`upgrading a real stacked 3+2 cluster from ${FROM} to ${TO}`, () => {
  const t = upgradeRig({ controlPlanes: 3, workers: 2 });
  const { rig, sh, cli, upgradeFile } = t;
  const replaceWorker = async () => {
    rig.worker.kill();
    await sleep(500);
    await rig.newWorker();
  };
  const invocations = (host: string, ...prefix: string[]) =>
    readInvocations(t.fleet.dir, host).filter((i) => prefix.every((p, k) => i.argv[k] === p));

  it(`builds the cluster at ${FROM}`, async () => {
    const r = await cli(['start', t.fleet.clusterFile, '--auto-approve', 'upgrade test', '--exit-on-park']);
    assert.equal(r.code, 0, r.out);
  });

  it('an approved plan refuses to run once the cluster drifted from it, naming the drift, and changes nothing', async () => {
    const file = upgradeFile();
    const saved = join(dirname(file), 'upgrade-plan.json');
    const plan = await cli(['upgrade', file, '--plan', '--save', saved]);
    assert.equal(plan.code, 0, plan.out);
    assert.ok(plan.out.includes(`Upgrade from ${FROM} to ${TO}: ${TO} (one minor at a time`), plan.out);
    assert.match(plan.out, /Facts fingerprint: sha256:[0-9a-f]{64}/);
    // Someone starts by hand on cp3: its scheduler's manifest names the new release.
    const manifest = '/etc/kubernetes/manifests/kube-scheduler.yaml';
    await sh('cp3', `sed -i 's#kube-scheduler:${FROM}#kube-scheduler:${TO}#' ${manifest}`);
    const t0 = Date.now();
    const r = await cli(['upgrade', file, '--approved-plan', saved, '--as', 'upgrade test', '--exit-on-park']);
    await sh('cp3', `sed -i 's#kube-scheduler:${TO}#kube-scheduler:${FROM}#' ${manifest}`);
    assert.equal(r.code, 1, r.out);
    assert.ok(
      r.out.includes(
        `approved by upgrade test found it; nothing was changed. Changed: cp3: kube-scheduler ${FROM} -> ${TO}`,
      ),
      r.out,
    );
    for (const h of t.fleet.hosts)
      assert.deepEqual(
        readInvocations(t.fleet.dir, h.name)
          .filter((i) => i.start >= t0 && i.argv[0] !== 'version')
          .map((i) => i.argv.join(' ')),
        [],
        `${h.name}: no kubeadm command but version`,
      );
  });

  it(
    'upgrades it: the worker killed during kubeadm upgrade apply and during a drain, a PodDisruptionBudget parks w2 until --disable-eviction',
    { timeout: 40 * 60_000 },
    async () => {
      const pause = await sh('w2', "ctr -n k8s.io images ls -q | grep '/pause:' | head -1");
      const objects = [
        `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"guarded","namespace":"default"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"guarded"}},"template":{"metadata":{"labels":{"app":"guarded"}},"spec":{"nodeSelector":{"kubernetes.io/hostname":"w2"},"containers":[{"name":"pause","image":"${pause}"}]}}}}`,
        '{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"guarded-pdb","namespace":"default"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"guarded"}}}}',
      ];
      for (const o of objects) await sh('cp1', `echo '${o}' | ${KUBECTL} apply -f -`);
      await sh('cp1', `${KUBECTL} rollout status deployment/guarded --timeout=180s`);

      const file = upgradeFile();
      const run = cli(['upgrade', file, '--auto-approve', 'upgrade test', '--exit-on-park']);
      await eventually(
        'kubeadm upgrade apply running on cp1',
        async () => invocations('cp1', 'upgrade', 'apply').some((i) => i.end === undefined) || undefined,
        600_000,
        100,
      );
      await replaceWorker();
      await eventually(
        'cp2 cordoned for its drain',
        async () =>
          (await sh('cp1', `${KUBECTL} get node cp2 -o jsonpath='{.spec.unschedulable}'`)) === 'true' || undefined,
        900_000,
        200,
      );
      await replaceWorker();
      const parked = await run;
      assert.equal(parked.code, 5, parked.out);
      assert.match(
        parked.out,
        /w2: kubectl drain stopped: PodDisruptionBudget default\/guarded-pdb allows no disruption of default\/guarded-/,
      );
      assert.match(parked.out, /kubeadm-ha disable-eviction \S+ w2 --as/);
      const choice = await cli([
        'disable-eviction',
        t.fleet.clusterName,
        'w2',
        '--as',
        'upgrade test',
        '--reason',
        'test pod',
      ]);
      assert.equal(choice.code, 0, choice.out);
      const w = await cli(['watch', t.fleet.clusterName]);
      assert.equal(w.code, 0, w.out);
      assert.match(
        w.out,
        new RegExp(`Upgraded .* to ${TO.replace(/\./g, '\\.')}; backup in /var/lib/kubeadm-ha/backups/`),
      );

      // Every Node at the new kubelet, Ready and schedulable; the control planes' static pods at TO.
      assert.deepEqual(
        await t.nodeRows(),
        ['cp1', 'cp2', 'cp3', 'w1', 'w2'].map((n) => `${n} ${TO} True`),
      );
      for (const cp of ['cp1', 'cp2', 'cp3'])
        assert.equal(
          await sh(cp, "grep -h 'image:' /etc/kubernetes/manifests/kube-*.yaml | sed 's/.*://' | sort -u"),
          TO,
          `${cp}'s static pods`,
        );

      // Exactly once, whatever died: one apply on cp1, one upgrade node on every other node.
      assert.equal(invocations('cp1', 'upgrade', 'apply').length, 1, 'cp1: kubeadm upgrade apply once');
      for (const node of ['cp2', 'cp3', 'w1', 'w2'])
        assert.equal(invocations(node, 'upgrade', 'node').length, 1, `${node}: kubeadm upgrade node once`);

      // The backup the run reported is on cp1, with that digest.
      const digest = /etcd-snapshot\.db sha256:([0-9a-f]{64})/.exec(w.out)?.[1];
      assert.ok(digest, w.out);
      assert.equal(
        (await sh('cp1', `sha256sum /var/lib/kubeadm-ha/backups/${TO}/etcd-snapshot.db`)).split(' ')[0],
        digest,
      );
    },
  );

  it('a second upgrade run has nothing to do', async () => {
    const t0 = Date.now();
    const r = await cli(['upgrade', upgradeFile(), '--auto-approve', 'upgrade test', '--exit-on-park']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Nothing to do/);
    for (const h of t.fleet.hosts)
      assert.deepEqual(
        readInvocations(t.fleet.dir, h.name).filter((i) => i.start >= t0 && i.argv[0] !== 'version'),
        [],
        `${h.name}: no kubeadm command but version`,
      );
  });
});

describe(`upgrading a real external-etcd cluster (2 control planes, 3 etcd hosts) from ${FROM} to ${TO}`, () => {
  const t = upgradeRig({ controlPlanes: 2, workers: 0, etcdHosts: 3 });
  const { sh, cli, upgradeFile } = t;

  it(
    'builds it, then upgrades both control planes; the snapshot is taken on etcd1; etcd is left to its hosts',
    { timeout: 40 * 60_000 },
    async () => {
      const built = await cli(['start', t.fleet.clusterFile, '--auto-approve', 'upgrade test', '--exit-on-park']);
      assert.equal(built.code, 0, built.out);
      const file = upgradeFile();
      const etcdBefore = await sh('etcd1', "grep -h 'image:' /etc/kubernetes/manifests/etcd.yaml");
      const r = await cli(['upgrade', file, '--auto-approve', 'upgrade test', '--exit-on-park']);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(
        await t.nodeRows(),
        ['cp1', 'cp2'].map((n) => `${n} ${TO} True`),
      );
      for (const cp of ['cp1', 'cp2'])
        assert.equal(
          await sh(cp, "grep -h 'image:' /etc/kubernetes/manifests/kube-*.yaml | sed 's/.*://' | sort -u"),
          TO,
          `${cp}'s static pods`,
        );
      assert.equal(
        await sh('etcd1', "grep -h 'image:' /etc/kubernetes/manifests/etcd.yaml"),
        etcdBefore,
        'etcd untouched',
      );
      assert.equal(
        readInvocations(t.fleet.dir, 'cp1').filter((i) => i.argv[0] === 'upgrade' && i.argv[1] === 'apply').length,
        1,
      );
      for (const node of ['cp2'])
        assert.equal(
          readInvocations(t.fleet.dir, node).filter((i) => i.argv[0] === 'upgrade' && i.argv[1] === 'node').length,
          1,
        );
      const digest = /etcd-snapshot\.db sha256:([0-9a-f]{64})/.exec(r.out)?.[1];
      assert.ok(digest, r.out);
      assert.equal(
        (await sh('etcd1', `sha256sum /var/lib/kubeadm-ha/backups/${TO}/etcd-snapshot.db`)).split(' ')[0],
        digest,
      );
    },
  );
});
