// kubeadm/upgrade.ts: the hops, the commands per release, `kubeadm upgrade plan`'s text of each era
// (test/fixtures/kubeadm/upgrade-plan-*.txt, see the README there), the node facts command run for
// real in sh and bash over static pod manifests the real kubeadm wrote, and the state a node is in.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import {
  isMinorHop,
  renderUpgradeConfig,
  upgradeApplyCommand,
  upgradeHops,
  upgradeNodeCommand,
  upgradePlanCommand,
} from '../../src/kubeadm/upgrade';
import {
  imageTag,
  mixedControlPlane,
  nodeUpgradeState,
  nodeVersionsCommand,
  parseKubeadmVersion,
  parseKubeletVersion,
  parseNodeVersions,
  type NodeVersions,
  kubeadmBackupDirs,
  upgradeFailureText,
} from '../../src/kubeadm/upgrade-node';
import { parseUpgradePlan, planSummary } from '../../src/kubeadm/upgrade-plan';
import { fixture } from './fixtures';

const PATCHES = '/etc/kubeadm-ha/patches';

describe('upgradeHops', () => {
  it('goes one minor at a time, intermediate minors for the caller to choose a patch, the target last', () => {
    assert.deepEqual(upgradeHops('v1.13.5', 'v1.14.10'), ['v1.14.10']);
    assert.deepEqual(upgradeHops('1.34.2', 'v1.37.2'), ['v1.35', 'v1.36', 'v1.37.2']);
    assert.deepEqual(upgradeHops('v1.13.12', '1.15.0'), ['v1.14', 'v1.15.0']);
    assert.deepEqual(upgradeHops('v1.36.1', 'v1.36.3'), ['v1.36.3'], 'a patch upgrade is one hop');
    assert.deepEqual(upgradeHops('v1.36.3', '1.36.3'), []);
    assert.equal(isMinorHop('v1.36'), true);
    assert.equal(isMinorHop('v1.36.3'), false);
  });

  it('refuses downgrades, pre-releases and versions outside 1.13-1.37', () => {
    assert.throws(
      () => upgradeHops('v1.37.2', 'v1.36.3'),
      /^Error: refusing to downgrade from v1\.37\.2 to v1\.36\.3: kubeadm-ha upgrades only/,
    );
    assert.throws(() => upgradeHops('v1.36.3', 'v1.38.0'), /^Error: to: Kubernetes v1\.38\.0 is not supported yet/);
    assert.throws(() => upgradeHops('v1.12.10', 'v1.13.5'), /^Error: from: Kubernetes v1\.12\.10 is not supported/);
    assert.throws(() => upgradeHops('v1.36.3', 'v1.37.0-rc.1'), /^Error: to: v1\.37\.0-rc\.1 is a pre-release/);
    assert.throws(() => upgradeHops('v1.36.3', 'v1.37'), /^Error: to: invalid Kubernetes version "v1\.37"/);
  });
});

describe('upgrade commands', () => {
  it('plans with the version given (no look-up on the internet), ignoring checks by name only', () => {
    assert.equal(upgradePlanCommand('1.36.3'), 'kubeadm upgrade plan v1.36.3');
    assert.equal(
      upgradePlanCommand('v1.20.15', { ignorePreflightErrors: ['CoreDNSUnsupportedPlugins', 'CoreDNSMigration'] }),
      'kubeadm upgrade plan v1.20.15 --ignore-preflight-errors=CoreDNSUnsupportedPlugins,CoreDNSMigration',
    );
    assert.throws(
      () => upgradePlanCommand('v1.36.3', { ignorePreflightErrors: ['all'] }),
      /ignorePreflightErrors\[0\]: "all" is not one preflight check's name/,
    );
    assert.throws(
      () => upgradePlanCommand('v1.36.3', { ignorePreflightErrors: ['Swap; reboot'] }),
      /ignorePreflightErrors\[0\]/,
    );
  });

  it('applies with flags up to 1.30: the version, --yes, named checks, --patches from 1.22', () => {
    assert.deepEqual(upgradeApplyCommand('v1.14.10'), { command: 'kubeadm upgrade apply v1.14.10 --yes' });
    assert.deepEqual(
      upgradeApplyCommand('v1.30.14', { ignorePreflightErrors: ['CoreDNSUnsupportedPlugins'], patches: PATCHES }),
      {
        command: `kubeadm upgrade apply v1.30.14 --yes --ignore-preflight-errors=CoreDNSUnsupportedPlugins --patches '${PATCHES}'`,
      },
    );
    assert.throws(
      () => upgradeApplyCommand('v1.21.14', { patches: PATCHES }),
      /^Error: kubeadm\.patches: patches\.directory arrived in kubeadm\.k8s\.io\/v1beta3 \(Kubernetes 1\.22\); kubeadm v1\.21\.14 upgrades take no patches/,
    );
    assert.throws(() => upgradeApplyCommand('v1.30.14', { patches: 'relative/dir' }), /kubeadm\.patches/);
  });

  it('applies with an UpgradeConfiguration from 1.31 (v1beta4), --yes beside --config', () => {
    const step = upgradeApplyCommand('v1.31.14', {
      ignorePreflightErrors: ['CoreDNSUnsupportedPlugins', 'CoreDNSUnsupportedPlugins'],
      patches: PATCHES,
    });
    assert.equal(step.command, "kubeadm upgrade apply --config '/var/lib/kubeadm-ha/upgrade-config.yaml' --yes");
    assert.deepEqual(step.configFile, {
      path: '/var/lib/kubeadm-ha/upgrade-config.yaml',
      content: [
        'apiVersion: kubeadm.k8s.io/v1beta4',
        'kind: UpgradeConfiguration',
        'apply:',
        '  kubernetesVersion: v1.31.14',
        '  ignorePreflightErrors:',
        '    - CoreDNSUnsupportedPlugins',
        '  patches:',
        `    directory: ${PATCHES}`,
        '',
      ].join('\n'),
    });
    const bare = upgradeApplyCommand('1.37.2', { configPath: '/tmp/upgrade-1.37.yaml' });
    assert.equal(bare.command, "kubeadm upgrade apply --config '/tmp/upgrade-1.37.yaml' --yes");
    assert.deepEqual(parse(bare.configFile!.content), {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'UpgradeConfiguration',
      apply: { kubernetesVersion: 'v1.37.2' },
    });
  });

  it('never forces or ignores every check', () => {
    for (const v of ['v1.13.12', 'v1.22.17', 'v1.30.14', 'v1.31.14', 'v1.37.2']) {
      const s = upgradeApplyCommand(v, { ignorePreflightErrors: ['Swap'] });
      assert.doesNotMatch(`${s.command}\n${s.configFile?.content ?? ''}`, /--force|forceUpgrade|\ball\b/i);
    }
  });

  it('renders no UpgradeConfiguration for a kubeadm that has none', () => {
    assert.throws(
      () => renderUpgradeConfig({ kubernetesVersion: 'v1.30.14' }),
      /^Error: kubernetesVersion: v1\.30\.14 reads kubeadm\.k8s\.io\/v1beta3, which has no UpgradeConfiguration/,
    );
  });

  it('upgrades the other nodes as each release names it', () => {
    assert.equal(
      upgradeNodeCommand('v1.13.12', 'control-plane'),
      'kubeadm upgrade node experimental-control-plane && kubeadm upgrade node config --kubelet-version v1.13.12',
    );
    assert.equal(upgradeNodeCommand('1.14.10', 'worker'), 'kubeadm upgrade node config --kubelet-version v1.14.10');
    assert.equal(upgradeNodeCommand('v1.15.12', 'control-plane'), 'kubeadm upgrade node');
    assert.equal(upgradeNodeCommand('v1.15.12', 'worker'), 'kubeadm upgrade node');
    assert.equal(
      upgradeNodeCommand('v1.37.2', 'worker', { patches: PATCHES }),
      `kubeadm upgrade node --patches '${PATCHES}'`,
    );
    // kubeadm upgrade node has had a preflight phase since 1.20: before, there was nothing to skip.
    const ignore = { ignorePreflightErrors: ['SystemVerification'] };
    assert.equal(
      upgradeNodeCommand('v1.37.2', 'worker', ignore),
      'kubeadm upgrade node --ignore-preflight-errors=SystemVerification',
    );
    assert.equal(upgradeNodeCommand('v1.19.16', 'worker', ignore), 'kubeadm upgrade node');
    assert.throws(() => upgradeNodeCommand('v1.37.2', 'worker', { ignorePreflightErrors: ['all'] }), /never "all"/);
    assert.throws(() => upgradeNodeCommand('v1.14.10', 'worker', { patches: PATCHES }), /patches\.directory arrived/);
    assert.throws(() => upgradeNodeCommand('v1.36', 'worker'), /invalid Kubernetes version/);
  });
});

describe('parseUpgradePlan', () => {
  it('1.30+: a row per node, kube-proxy and CoreDNS without one, the apply command', () => {
    const plan = parseUpgradePlan(fixture('upgrade-plan-1.37.stdout.txt'));
    assert.equal(plan.clusterVersion, '1.36.3');
    assert.equal(plan.kubeadmVersion, 'v1.37.2');
    assert.equal(plan.upgrades.length, 1);
    const [up] = plan.upgrades;
    assert.equal(up.description, 'version in the v1.36 series');
    assert.deepEqual(
      up.manual.map((r) => `${r.component} ${r.node} ${r.current} ${r.target}`),
      ['cp1', 'cp2', 'cp3', 'w1', 'w2'].map((n) => `kubelet ${n} v1.36.3 v1.37.2`),
    );
    assert.equal(up.components.length, 14);
    assert.deepEqual(up.components[0], {
      component: 'kube-apiserver',
      node: 'cp1',
      current: 'v1.36.3',
      target: 'v1.37.2',
    });
    assert.deepEqual(up.components[9], { component: 'kube-proxy', current: '1.36.3', target: 'v1.37.2' });
    assert.deepEqual(up.components[10], { component: 'CoreDNS', current: 'v1.14.2', target: 'v1.14.6' });
    assert.deepEqual(up.components[13], { component: 'etcd', node: 'cp3', current: '3.6.8-0', target: '3.7.0-0' });
    assert.deepEqual([up.applyVersion, up.applyFlags, up.kubeadmFirst, up.external], ['v1.37.2', [], undefined, []]);
  });

  it('sums the upgrade to one version up in a line, each component once; refuses a version kubeadm does not offer', () => {
    const plan = parseUpgradePlan(fixture('upgrade-plan-1.37.stdout.txt'));
    assert.equal(
      planSummary(plan, 'v1.37.2'),
      'kube-apiserver v1.36.3 -> v1.37.2; kube-controller-manager v1.36.3 -> v1.37.2; kube-scheduler v1.36.3 -> v1.37.2; ' +
        'kube-proxy 1.36.3 -> v1.37.2; CoreDNS v1.14.2 -> v1.14.6; etcd 3.6.8-0 -> 3.7.0-0; kubelet v1.36.3 -> v1.37.2',
    );
    assert.throws(() => planSummary(plan, 'v1.37.3'), /offers no upgrade to v1\.37\.3 \(it offers: v1\.37\.2\)/);
  });

  it('1.21-1.29: kubelets counted, TARGET', () => {
    const [up] = parseUpgradePlan(fixture('upgrade-plan-1.28.stdout.txt')).upgrades;
    assert.deepEqual(up.manual, [{ component: 'kubelet', count: 5, current: 'v1.27.9', target: 'v1.28.5' }]);
    assert.deepEqual(
      up.components.map((r) => [r.component, r.current, r.target]),
      [
        ['kube-apiserver', 'v1.27.9', 'v1.28.5'],
        ['kube-controller-manager', 'v1.27.9', 'v1.28.5'],
        ['kube-scheduler', 'v1.27.9', 'v1.28.5'],
        ['kube-proxy', 'v1.27.9', 'v1.28.5'],
        ['CoreDNS', 'v1.10.1', 'v1.10.1'],
        ['etcd', '3.5.9-0', '3.5.9-0'],
      ],
    );
    assert.equal(up.applyVersion, 'v1.28.5');
  });

  it('1.13-1.18: the old names, AVAILABLE, a second kubelet version on a row without a name', () => {
    const plan = parseUpgradePlan(fixture('upgrade-plan-1.14.stdout.txt'));
    assert.deepEqual([plan.clusterVersion, plan.kubeadmVersion], ['v1.13.12', 'v1.14.10']);
    const [up] = plan.upgrades;
    assert.deepEqual(up.manual, [
      { component: 'kubelet', count: 1, current: 'v1.13.11', target: 'v1.14.10' },
      { component: 'kubelet', count: 4, current: 'v1.13.12', target: 'v1.14.10' },
    ]);
    assert.deepEqual(
      up.components.map((r) => r.component),
      ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'CoreDNS', 'etcd'],
    );
    assert.deepEqual(up.components[4], { component: 'CoreDNS', current: '1.2.6', target: '1.3.1' });
    assert.equal(up.applyVersion, 'v1.14.10');
  });

  it("several upgrades, each with its own target and kubeadm's note (kubeadm's own plan_test.go text)", () => {
    const { upgrades } = parseUpgradePlan(fixture('upgrade-plan-two-upgrades.stdout.txt'));
    assert.deepEqual(
      upgrades.map((u) => [u.description, u.applyVersion, u.kubeadmFirst]),
      [
        ['version in the v1.18 series', 'v1.18.5', undefined],
        ['stable version', 'v1.19.0', 'v1.19.0'],
      ],
    );
    assert.deepEqual(upgrades[1].manual, [
      { component: 'kubelet', node: 'node1', current: 'v1.18.3', target: 'v1.19.0' },
    ]);
  });

  it('reads a pasted, indented table whose columns no longer line up (the 1.18 upgrade page sample)', () => {
    const text = [
      "    Components that must be upgraded manually after you have upgraded the control plane with 'kubeadm upgrade apply':",
      '    COMPONENT   CURRENT             AVAILABLE',
      '    Kubelet     1 x v1.17.3   v1.18.0',
      '',
      '    Upgrade to the latest version in the v1.17 series:',
      '',
      '    COMPONENT            CURRENT   AVAILABLE',
      '    API Server           v1.17.3   v1.18.0',
      '    Etcd                 3.4.3     3.4.3-0',
      '',
      '    You can now apply the upgrade by executing the following command:',
      '',
      '        kubeadm upgrade apply v1.18.0',
      '',
      '    _____________________________________________________________________',
    ].join('\n');
    const [up] = parseUpgradePlan(text).upgrades;
    assert.deepEqual(up.manual, [{ component: 'kubelet', count: 1, current: 'v1.17.3', target: 'v1.18.0' }]);
    assert.deepEqual(up.components[1], { component: 'etcd', current: '3.4.3', target: '3.4.3-0' });
  });

  it('the flag kubeadm adds for a release candidate; nothing when up to date', () => {
    const rc = [
      'Upgrade to the latest release candidate version:',
      '',
      'COMPONENT                 NODE      CURRENT   TARGET',
      'kube-apiserver            node1     v1.18.5   v1.19.0-rc.1',
      '',
      'You can now apply the upgrade by executing the following command:',
      '',
      '\tkubeadm upgrade apply v1.19.0-rc.1 --allow-release-candidate-upgrades',
      '',
      '_____________________________________________________________________',
      '',
    ].join('\n');
    const [up] = parseUpgradePlan(rc).upgrades;
    assert.deepEqual([up.applyVersion, up.applyFlags], ['v1.19.0-rc.1', ['--allow-release-candidate-upgrades']]);
    assert.deepEqual(
      parseUpgradePlan("[upgrade/versions] Cluster version: v1.13.12\nAwesome, you're up-to-date! Enjoy!\n"),
      {
        clusterVersion: 'v1.13.12',
        upgrades: [],
      },
    );
  });

  it("refuses text that is not in kubeadm's layout rather than guess", () => {
    const text = fixture('upgrade-plan-1.28.stdout.txt');
    assert.throws(
      () => parseUpgradePlan(text.replace('kube-scheduler            v1.27.9', 'kube-scheduler v1.27.9')),
      /line 21 does not fit its table: "kube-scheduler v1\.27\.9   v1\.28\.5"/,
    );
    assert.throws(
      () => parseUpgradePlan(text.replace('\tkubeadm upgrade apply v1.28.5', '\tkubeadm upgrade v1.28.5')),
      /no "kubeadm upgrade apply" command at line 28/,
    );
    assert.throws(
      () => parseUpgradePlan(text.replace('COMPONENT                 CURRENT   TARGET', 'NAME   CURRENT   TARGET')),
      /expected a COMPONENT table at line 18/,
    );
    assert.throws(
      () => parseUpgradePlan(text.replace(/You can now apply[^_]*/, '')),
      /the upgrade ending at line \d+ lacks its table or its apply command/,
    );
  });
});

describe('node versions', () => {
  it("reads the kubelet's and kubeadm's own version texts", () => {
    assert.equal(parseKubeletVersion('Kubernetes v1.36.3\n'), 'v1.36.3');
    assert.equal(parseKubeadmVersion('v1.37.2\n'), 'v1.37.2');
    assert.throws(() => parseKubeletVersion('kubelet: command not found'), /unrecognised kubelet --version output/);
    assert.throws(
      () => parseKubeadmVersion('kubeadm version: &version.Info{Major:"1", Minor:"37"}'),
      /unrecognised kubeadm version -o short output/,
    );
  });

  it('takes the tag of an image, whatever its registry', () => {
    assert.equal(imageTag('registry.k8s.io/kube-apiserver:v1.36.3'), 'v1.36.3');
    assert.equal(imageTag('registry.local:5000/k8s/kube-apiserver:v1.36.3'), 'v1.36.3');
    assert.equal(imageTag('registry.k8s.io/etcd:3.6.8-0@sha256:0123abcd'), '3.6.8-0');
    assert.equal(imageTag('registry.local:5000/kube-apiserver'), undefined);
    assert.equal(imageTag('registry.k8s.io/kube-apiserver@sha256:0123abcd'), undefined);
  });

  it('parses what the command printed on a control plane with the real kubeadm and kubelet', () => {
    assert.deepEqual(parseNodeVersions(fixture('node-versions-cp-1.36.3.txt')), {
      kubeadm: 'v1.36.3',
      kubelet: 'v1.36.3',
      staticPods: {
        'kube-apiserver': 'v1.36.3',
        'kube-controller-manager': 'v1.36.3',
        'kube-scheduler': 'v1.36.3',
        etcd: '3.6.8-0',
      },
    });
  });

  describe('nodeVersionsCommand run for real', () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-upgrade-'));
    after(() => fs.rmSync(scratch, { recursive: true, force: true }));
    const shells = ['/bin/sh', '/bin/bash'].filter((s) => fs.existsSync(s));
    const which = (t: string) => ['/usr/bin', '/bin'].map((d) => `${d}/${t}`).find((p) => fs.existsSync(p))!;

    /** A node: the manifests given (fixture names), stub kubeadm/kubelet printing `says`, PATH with nothing else but sed and head. */
    function node(manifests: Record<string, string>, says: { kubeadm?: string; kubelet?: string }): [string, string] {
      const root = fs.mkdtempSync(path.join(scratch, 'node-'));
      const dir = path.join(root, 'manifests');
      const bin = path.join(root, 'bin');
      fs.mkdirSync(dir);
      fs.mkdirSync(bin);
      for (const [c, name] of Object.entries(manifests)) fs.writeFileSync(path.join(dir, `${c}.yaml`), fixture(name));
      for (const [tool, out] of Object.entries(says)) {
        fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\nprintf '%s\\n' '${out}'\n`, { mode: 0o755 });
      }
      for (const t of ['sed', 'head']) fs.symlinkSync(which(t), path.join(bin, t));
      return [dir, bin];
    }
    const run = (shell: string, dir: string, bin: string) => {
      const r = spawnSync(shell, ['-c', nodeVersionsCommand(dir)], { encoding: 'utf8', env: { PATH: bin } });
      assert.equal(r.status, 0, r.stderr);
      return parseNodeVersions(r.stdout);
    };

    for (const shell of shells) {
      it(`${shell}: a control plane that an apply left half-way (etcd and kube-apiserver at v1.37.2)`, () => {
        const [dir, bin] = node(
          {
            'kube-apiserver': 'manifest-v1.37.2-kube-apiserver.yaml',
            'kube-controller-manager': 'manifest-v1.36.3-kube-controller-manager.yaml',
            'kube-scheduler': 'manifest-v1.36.3-kube-scheduler.yaml',
            etcd: 'manifest-v1.37.2-etcd.yaml',
          },
          { kubeadm: 'v1.37.2', kubelet: 'Kubernetes v1.36.3' },
        );
        assert.deepEqual(run(shell, dir, bin), {
          kubeadm: 'v1.37.2',
          kubelet: 'v1.36.3',
          staticPods: {
            'kube-apiserver': 'v1.37.2',
            'kube-controller-manager': 'v1.36.3',
            'kube-scheduler': 'v1.36.3',
            etcd: '3.7.0-0',
          },
        });
      });

      it(`${shell}: a worker without kubeadm: no manifests, the kubelet only`, () => {
        const [dir, bin] = node({}, { kubelet: 'Kubernetes v1.36.3' });
        assert.deepEqual(run(shell, dir, bin), { kubelet: 'v1.36.3', staticPods: {} });
      });
    }
  });
});

describe('nodeUpgradeState', () => {
  const AT = (v: string) => ({
    'kube-apiserver': v,
    'kube-controller-manager': v,
    'kube-scheduler': v,
    etcd: v === 'v1.37.2' ? '3.7.0-0' : '3.6.8-0',
  });
  const cp = (kubeadm: string | undefined, kubelet: string, staticPods: NodeVersions['staticPods']): NodeVersions => ({
    ...(kubeadm ? { kubeadm } : {}),
    kubelet,
    staticPods,
  });
  const T = 'v1.37.2';

  it('walks a control plane through kubeadm, apply or upgrade node, kubelet, done', () => {
    const facts = parseNodeVersions(fixture('node-versions-cp-1.36.3.txt'));
    assert.deepEqual(nodeUpgradeState(facts, 'first-control-plane', T), {
      step: 'kubeadm',
      detail: 'kubeadm v1.36.3 is installed; the hop to v1.37.2 needs kubeadm v1.37.2',
    });
    assert.deepEqual(nodeUpgradeState(cp(T, 'v1.36.3', AT('v1.36.3')), 'first-control-plane', T), {
      step: 'apply',
      detail: 'control plane at v1.36.3, kubeadm at v1.37.2',
    });
    assert.equal(nodeUpgradeState(cp(T, 'v1.36.3', AT('v1.36.3')), 'control-plane', T).step, 'upgrade-node');
    assert.deepEqual(nodeUpgradeState(cp(T, 'v1.36.3', AT(T)), 'control-plane', T), {
      step: 'kubelet',
      detail: 'control plane at v1.37.2, kubelet at v1.36.3',
    });
    assert.equal(nodeUpgradeState(cp(T, T, AT(T)), 'first-control-plane', T).step, 'done');
    assert.equal(
      nodeUpgradeState(cp('v1.38.0', T, AT(T)), 'control-plane', T).step,
      'done',
      'a later hop has begun: this one is done',
    );
  });

  it('re-runs apply on a control plane left mixed, naming which component is at which version', () => {
    const mixed = { ...AT('v1.36.3'), 'kube-apiserver': T, etcd: '3.7.0-0' };
    const s = nodeUpgradeState(cp(T, 'v1.36.3', mixed), 'first-control-plane', T);
    assert.equal(s.step, 'apply');
    assert.equal(
      s.detail,
      'the control plane is mixed: kube-controller-manager, kube-scheduler at v1.36.3; kube-apiserver at v1.37.2 (etcd 3.7.0-0)',
    );
    assert.ok(s.step === 'apply' && s.mixed);
    assert.deepEqual(s.mixed.versions, mixed);
    assert.equal(mixedControlPlane(AT(T)), undefined);
    assert.equal(mixedControlPlane({ 'kube-apiserver': 'v1.36.3', 'kube-scheduler': '1.36.3' }), undefined);
  });

  it('a worker: kubeadm, then upgrade node until its kubelet is at the target', () => {
    assert.deepEqual(nodeUpgradeState({ kubelet: 'v1.36.3', staticPods: {} }, 'worker', T), {
      step: 'kubeadm',
      detail: 'kubeadm reports no version; the hop to v1.37.2 needs kubeadm v1.37.2',
    });
    assert.equal(nodeUpgradeState(cp(T, 'v1.36.3', {}), 'worker', T).step, 'upgrade-node');
    assert.deepEqual(nodeUpgradeState(cp('v1.36.3', T, {}), 'worker', T), {
      step: 'done',
      detail: 'kubelet at v1.37.2',
    });
  });

  it('blocks a node that cannot take this hop', () => {
    assert.deepEqual(nodeUpgradeState(cp(T, 'v1.36.3', { etcd: '3.6.8-0' }), 'control-plane', T), {
      step: 'blocked',
      detail:
        'no static pod manifest for kube-apiserver, kube-controller-manager, kube-scheduler: not a kubeadm control plane',
    });
    assert.deepEqual(nodeUpgradeState(cp(T, 'v1.35.4', AT('v1.35.4')), 'control-plane', T), {
      step: 'blocked',
      detail: 'its control plane is at v1.35.4: the hop to v1.37.2 needs it at 1.36 first (one minor at a time)',
    });
    assert.equal(nodeUpgradeState(cp(T, 'v1.35.4', {}), 'worker', T).step, 'blocked');
    assert.deepEqual(
      nodeUpgradeState(
        cp(T, 'v1.36.3', { ...AT('v1.36.3'), 'kube-apiserver': 'registry.k8s.io/kube-apiserver@sha256:0123' }),
        'control-plane',
        T,
      ),
      {
        step: 'blocked',
        detail: `kube-apiserver's image names no Kubernetes version ("registry.k8s.io/kube-apiserver@sha256:0123")`,
      },
    );
    assert.deepEqual(nodeUpgradeState({ staticPods: {} }, 'worker', T), {
      step: 'blocked',
      detail: 'the kubelet reports no version',
    });
    assert.throws(() => nodeUpgradeState(cp(T, T, {}), 'worker', 'v1.37'), /target: invalid Kubernetes version/);
  });
});

describe('upgradeFailureText', () => {
  // kubeadm's own lines (cmd/kubeadm/app/phases/upgrade/staticpods.go), as the real v1.37.2 printed them.
  const output = [
    '[upgrade/staticpods] Moving new manifest to "/etc/kubernetes/manifests/kube-apiserver.yaml" and backing up old manifest to "/etc/kubernetes/tmp/kubeadm-backup-manifests-2026-12-05-07-53-43/kube-apiserver.yaml"',
    '[upgrade/staticpods] Waiting for the kubelet to restart the component',
  ].join('\n');

  it("names kubeadm's error, a mixed control plane and the exact backup folder", () => {
    assert.equal(
      upgradeFailureText({
        host: 'cp1',
        what: 'kubeadm upgrade apply v1.37.2',
        why: 'timed out waiting for the condition',
        after: {
          kubeadm: 'v1.37.2',
          kubelet: 'v1.36.3',
          staticPods: {
            'kube-apiserver': 'v1.37.2',
            'kube-controller-manager': 'v1.36.3',
            'kube-scheduler': 'v1.36.3',
            etcd: '3.7.0-0',
          },
        },
        output,
      }),
      'cp1: kubeadm upgrade apply v1.37.2 failed: timed out waiting for the condition. Now the control plane is mixed: ' +
        'kube-controller-manager, kube-scheduler at v1.36.3; kube-apiserver at v1.37.2 (etcd 3.7.0-0). kubeadm kept what it ' +
        'replaced in /etc/kubernetes/tmp/kubeadm-backup-manifests-2026-12-05-07-53-43; retry runs it again ' +
        "(kubeadm's upgrade is idempotent), or abort",
    );
  });

  it('says so when kubeadm replaced nothing yet, or the versions could not be read', () => {
    const text = upgradeFailureText({
      host: 'cp2',
      what: 'kubeadm upgrade node',
      why: 'preflight',
      output: '[preflight] x',
    });
    assert.match(text, /Now its versions could not be read\. kubeadm had replaced nothing yet/);
    assert.deepEqual(
      kubeadmBackupDirs(
        `${output}\n${output}\nbackup etcd data to /etc/kubernetes/tmp/kubeadm-backup-etcd-2026-12-05-07-53-43/etcd`,
      ),
      [
        '/etc/kubernetes/tmp/kubeadm-backup-manifests-2026-12-05-07-53-43',
        '/etc/kubernetes/tmp/kubeadm-backup-etcd-2026-12-05-07-53-43',
      ],
    );
  });
});
