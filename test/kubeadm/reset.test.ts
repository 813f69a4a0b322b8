// resetCleanupCommand run for real, in dash and bash, against stub iptables-save/-restore,
// ip6tables-save/-restore, ip and ipvsadm that read fixtures and record what they were given, with
// every file path pointed into a scratch folder and PATH holding only the stubs and the few
// coreutils the command needs (so no real iptables, ip or ipvsadm can run, whatever the machine has).
//
// The fixtures (test/fixtures/kubeadm/iptables-save-node.txt, ip6tables-save-node.txt) are a node's
// `iptables-save` with kube-proxy in iptables mode (chains and rules of kubernetes
// pkg/proxy/iptables/proxier.go: iptablesJumpChains, KUBE-SVC-/KUBE-SEP- per service), the
// kubelet's KUBE-FIREWALL/KUBE-KUBELET-CANARY/KUBE-IPTABLES-HINT (pkg/kubelet/kubelet_network_linux.go),
// flannel's FLANNEL-POSTRTG/FLANNEL-FWD (flannel-io/flannel pkg/trafficmngr/iptables/iptables.go:
// masqRules, forwardRules), the CNI portmap plugin's CNI-HOSTPORT-*/CNI-DN-* chains, and a host
// firewall: INPUT and FORWARD policy DROP, an ACCEPT for tcp dport 22, a ufw-style user chain and
// Docker's DOCKER-USER. The *.clean.txt files are what must be left: written by hand, line by line.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CHAIN_PREFIXES,
  CNI_CONF_DIR,
  IPTABLES_FILTER_AWK,
  RESET_CLEANUP_STEPS,
  ROOT_KUBECONFIG,
  resetCleanupCommand,
  type ResetCleanupOptions,
} from '../../src/kubeadm/reset';
import { fixture } from './fixtures';

const V4 = fixture('iptables-save-node.txt');
const V4_CLEAN = fixture('iptables-save-node.clean.txt');
const V6 = fixture('ip6tables-save-node.txt');
const V6_CLEAN = fixture('ip6tables-save-node.clean.txt');
/** Captured from a real-fleet node (fleet/real): kube-proxy iptables mode and flannel, no host firewall. */
const REAL = fixture('iptables-save-real-fleet-node.txt');
const REAL_CLEAN = fixture('iptables-save-real-fleet-node.clean.txt');
const SHELLS = ['/bin/sh', '/bin/bash'].filter((s) => fs.existsSync(s));

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-reset-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Which coreutils the command and the stubs may find: nothing else is on PATH. */
function toolsDir(awk: string): string {
  const d = fs.mkdtempSync(path.join(scratch, 'bin-'));
  for (const t of ['rm', 'cat', 'cp']) fs.symlinkSync(which(t), path.join(d, t));
  fs.symlinkSync(awk, path.join(d, 'awk'));
  return d;
}

function which(t: string): string {
  for (const d of ['/usr/bin', '/bin']) if (fs.existsSync(`${d}/${t}`)) return `${d}/${t}`;
  throw new Error(`${t} not found`);
}

// Each stub logs "name args" to $STUB_DIR/calls and fails (exit 1) when $STUB_DIR/fail-<name> exists.
const STUB_BODIES: Record<string, string> = {
  'iptables-save': 'cat "$STUB_DIR/iptables.state"',
  'ip6tables-save': 'cat "$STUB_DIR/ip6tables.state"',
  'iptables-restore':
    'cat >"$STUB_DIR/iptables.restored" && cp "$STUB_DIR/iptables.restored" "$STUB_DIR/iptables.state"',
  'ip6tables-restore':
    'cat >"$STUB_DIR/ip6tables.restored" && cp "$STUB_DIR/ip6tables.restored" "$STUB_DIR/ip6tables.state"',
  // iproute2's texts: `ip link show X` / `ip link delete X` of a missing device exit 1.
  ip: [
    'case "$1 $2" in',
    '"link show") [ -e "$STUB_DIR/links/$3" ] || { echo "Device \\"$3\\" does not exist." >&2; exit 1; }',
    '  echo "7: $3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP mode DEFAULT group default qlen 1000" ;;',
    '"link delete") [ -e "$STUB_DIR/links/$3" ] || { echo "Cannot find device \\"$3\\"" >&2; exit 1; }',
    '  rm "$STUB_DIR/links/$3" ;;',
    '*) echo "stub ip: unexpected: $*" >&2; exit 99 ;;',
    'esac',
  ].join('\n'),
  ipvsadm: '[ "$1" = --clear ] && : >"$STUB_DIR/ipvs"',
};

interface Node {
  dir: string;
  stubs: string;
  cni: string;
  rootKubeconfig: string;
  home: string;
  opts: ResetCleanupOptions;
}

/** A scratch "node": CNI files, kubeconfigs, iptables state, links, and stubs for `tools`. */
function node(
  o: { tools?: string[]; v4?: string; v6?: string; links?: string[]; ipvs?: boolean; fail?: string[] } = {},
): Node {
  const dir = fs.mkdtempSync(path.join(scratch, 'node-'));
  const stubs = path.join(dir, 'stubs');
  fs.mkdirSync(stubs);
  for (const t of o.tools ?? Object.keys(STUB_BODIES)) {
    const body = `#!/bin/sh\necho "${t} $*" >>"$STUB_DIR/calls"\n[ -e "$STUB_DIR/fail-${t}" ] && { echo "${t}: failing as told" >&2; exit 1; }\n${STUB_BODIES[t]}\n`;
    fs.writeFileSync(path.join(stubs, t), body, { mode: 0o755 });
  }
  fs.writeFileSync(path.join(dir, 'iptables.state'), o.v4 ?? V4);
  fs.writeFileSync(path.join(dir, 'ip6tables.state'), o.v6 ?? V6);
  fs.mkdirSync(path.join(dir, 'links'));
  for (const l of o.links ?? ['cni0', 'flannel.1']) fs.writeFileSync(path.join(dir, 'links', l), '');
  if (o.ipvs) fs.writeFileSync(path.join(dir, 'ipvs'), 'TCP  10.96.0.1:443 rr\n');
  for (const f of o.fail ?? []) fs.writeFileSync(path.join(dir, `fail-${f}`), '');
  fs.writeFileSync(path.join(dir, 'calls'), '');

  const cni = path.join(dir, 'etc cni', 'net.d');
  fs.mkdirSync(path.join(cni, 'multus.d'), { recursive: true });
  for (const f of ['10-flannel.conflist', '.hidden', '..dotdot', 'multus.d/multus.kubeconfig'])
    fs.writeFileSync(path.join(cni, f), '{}');
  const rootKubeconfig = path.join(dir, 'root', '.kube', 'config');
  const home = path.join(dir, 'home', 'kha');
  for (const h of [path.join(dir, 'root'), home]) {
    fs.mkdirSync(path.join(h, '.kube', 'cache'), { recursive: true });
    fs.writeFileSync(path.join(h, '.kube', 'config'), 'apiVersion: v1\nkind: Config\n');
    fs.writeFileSync(path.join(h, '.kube', 'cache', 'keep'), '');
  }
  return {
    dir,
    stubs,
    cni,
    rootKubeconfig,
    home,
    opts: { userHome: home, paths: { cniConfDir: cni, rootKubeconfig } },
  };
}

function run(n: Node, shell = '/bin/sh', awk = which('awk'), opts: ResetCleanupOptions = n.opts) {
  const r = spawnSync(shell, ['-c', resetCleanupCommand(opts)], {
    encoding: 'utf8',
    cwd: n.dir,
    // Not a socket on stdin: bash would take it for rshd's and read ~/.bashrc.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: `${n.stubs}:${toolsDir(awk)}`, STUB_DIR: n.dir },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: read(n, 'calls').split('\n').filter(Boolean) };
}

const read = (n: Node, f: string): string => fs.readFileSync(path.join(n.dir, f), 'utf8');
const links = (n: Node): string[] => fs.readdirSync(path.join(n.dir, 'links')).sort();

/** Independent of the awk program: is this iptables-save line Kubernetes/CNI state? */
function k8sLine(line: string): boolean {
  const k8s = (name: string | undefined): boolean => !!name && /^(KUBE-|CNI-|FLANNEL-)/.test(name);
  if (line.startsWith(':')) return k8s(line.slice(1).split(' ')[0]);
  if (!line.startsWith('-A ')) return false;
  const words = line.replace(/"(?:[^"\\]|\\.)*"/g, '""').split(/\s+/);
  return (
    k8s(words[1]) ||
    words.some((w, i) => (w === '-j' || w === '-g') && k8s(words[i + 1])) ||
    words.some((w, i) => (w === '-i' || w === '-o') && ['cni0', 'flannel.1'].includes(words[i + 1]))
  );
}

describe('resetCleanupCommand', () => {
  for (const shell of SHELLS) {
    it(`${shell}: removes the CNI configuration, the kubeconfigs, the Kubernetes/CNI iptables state and the devices`, () => {
      const n = node();
      const r = run(n, shell);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      // The folder stays, empty (hidden files and subfolders too).
      assert.deepEqual(fs.readdirSync(n.cni), []);
      assert.equal(fs.existsSync(n.rootKubeconfig), false);
      assert.equal(fs.existsSync(path.join(n.home, '.kube', 'config')), false);
      assert.ok(fs.existsSync(path.join(n.home, '.kube', 'cache', 'keep')), '~/.kube/cache stays');
      assert.equal(read(n, 'iptables.restored'), V4_CLEAN);
      assert.equal(read(n, 'ip6tables.restored'), V6_CLEAN);
      assert.deepEqual(links(n), []);
      assert.deepEqual(r.calls, [
        'iptables-save ',
        'iptables-restore ',
        'ip6tables-save ',
        'ip6tables-restore ',
        'ip link show kube-ipvs0',
        'ip link show cni0',
        'ip link delete cni0',
        'ip link show flannel.1',
        'ip link delete flannel.1',
      ]);
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
    });

    it(`${shell}: a second run (all clean) changes nothing, restores nothing and exits 0`, () => {
      const n = node();
      assert.equal(run(n, shell).code, 0);
      fs.writeFileSync(path.join(n.dir, 'calls'), '');
      fs.rmSync(path.join(n.dir, 'iptables.restored'));
      const state = [read(n, 'iptables.state'), read(n, 'ip6tables.state')];
      const r = run(n, shell);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.deepEqual(r.calls, [
        'iptables-save ',
        'ip6tables-save ',
        'ip link show kube-ipvs0',
        'ip link show cni0',
        'ip link show flannel.1',
      ]);
      assert.equal(fs.existsSync(path.join(n.dir, 'iptables.restored')), false);
      assert.deepEqual([read(n, 'iptables.state'), read(n, 'ip6tables.state')], state);
    });
  }

  it('keeps every other line byte for byte, in order: policies, table headers, COMMIT, the host firewall', () => {
    const n = node();
    assert.equal(run(n).code, 0);
    for (const [orig, restored] of [
      [V4, read(n, 'iptables.restored')],
      [V6, read(n, 'ip6tables.restored')],
    ]) {
      assert.deepEqual(
        restored.split('\n'),
        orig.split('\n').filter((l) => !k8sLine(l)),
      );
      assert.equal(restored.split('\n').filter(k8sLine).length, 0);
      const unquoted = restored.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      for (const p of CHAIN_PREFIXES) assert.doesNotMatch(unquoted, new RegExp(`(^:|-[jg] |^-A )${p}`, 'm'));
      assert.doesNotMatch(unquoted, /-[io] (cni0|flannel\.1)\b/);
      const count = (t: string, re: RegExp) => t.split('\n').filter((l) => re.test(l)).length;
      assert.equal(count(restored, /^\*/), count(orig, /^\*/));
      assert.equal(count(restored, /^COMMIT$/), count(orig, /^COMMIT$/));
    }
    const v4 = read(n, 'iptables.restored');
    assert.match(v4, /^:INPUT DROP \[0:0\]$/m);
    assert.match(v4, /^:FORWARD DROP \[0:0\]$/m);
    assert.match(v4, /^-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT$/m);
    assert.match(v4, /^:DOCKER-USER - \[0:0\]$/m);
    // A comment that reads like a jump to a KUBE- chain does not condemn its rule.
    assert.match(v4, /--comment "fleet sshd: \\"-j KUBE-SERVICES\\" here is \\\\ text" -j ACCEPT$/m);
    assert.match(v4, /--comment "API server; the old setup did -j KUBE-API here" -j ACCEPT$/m);
  });

  it('the awk program is portable (mawk/gawk/busybox awk), idempotent, and leaves a clean save as it is', () => {
    const awks = [which('awk'), '/usr/bin/mawk', '/usr/bin/gawk', '/usr/bin/original-awk'].filter((a) =>
      fs.existsSync(a),
    );
    const filter = (awk: string, input: string, args: string[] = []): string => {
      const r = spawnSync(awk, [...args, IPTABLES_FILTER_AWK], { input, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    for (const awk of awks) {
      assert.equal(filter(awk, V4), V4_CLEAN, awk);
      assert.equal(filter(awk, V6), V6_CLEAN, awk);
      assert.equal(filter(awk, REAL), REAL_CLEAN, awk);
      assert.equal(filter(awk, V4_CLEAN), V4_CLEAN, awk);
      assert.equal(filter(awk, filter(awk, V6)), V6_CLEAN, awk);
      assert.equal(filter(awk, ''), '', awk);
    }
    const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((b) => fs.existsSync(b));
    if (busybox) {
      assert.equal(filter(busybox, V4, ['awk']), V4_CLEAN, 'busybox awk');
      assert.equal(filter(busybox, V6, ['awk']), V6_CLEAN, 'busybox awk');
      assert.equal(filter(busybox, REAL, ['awk']), REAL_CLEAN, 'busybox awk');
    }
  });

  it('works with busybox awk as the awk on PATH', (t) => {
    const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((b) => fs.existsSync(b));
    if (!busybox) return t.skip('no busybox here');
    const n = node();
    const r = run(n, '/bin/sh', busybox);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(n, 'iptables.restored'), V4_CLEAN);
  });

  it('skips every tool that is not installed and exits 0', () => {
    const none = node({ tools: [] });
    let r = run(none);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.deepEqual(fs.readdirSync(none.cni), [], 'the files still go');
    assert.equal(fs.existsSync(none.rootKubeconfig), false);
    // iptables only (no ip6tables, ip or ipvsadm).
    const v4only = node({ tools: ['iptables-save', 'iptables-restore'] });
    r = run(v4only);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, ['iptables-save ', 'iptables-restore ']);
    assert.equal(read(v4only, 'iptables.restored'), V4_CLEAN);
    // A clean host without iptables-restore: nothing to restore, so nothing fails.
    const clean = node({ tools: ['iptables-save', 'ip'], v4: V4_CLEAN, links: [] });
    r = run(clean);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [
      'iptables-save ',
      'ip link show kube-ipvs0',
      'ip link show cni0',
      'ip link show flannel.1',
    ]);
    // Nothing there at all: no CNI folder, no kubeconfigs.
    const bare = node({ tools: [] });
    fs.rmSync(path.join(bare.dir, 'etc cni'), { recursive: true });
    fs.rmSync(bare.rootKubeconfig);
    fs.rmSync(path.join(bare.home, '.kube'), { recursive: true });
    assert.equal(run(bare).code, 0);
  });

  it('a tool that exists and fails makes it exit non-zero, and the other parts still run', () => {
    let n = node({ fail: ['iptables-restore'] });
    let r = run(n);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /iptables-restore: failing as told/);
    assert.equal(read(n, 'iptables.state'), V4, 'the v4 state is as it was');
    assert.equal(read(n, 'ip6tables.restored'), V6_CLEAN);
    assert.deepEqual(links(n), []);
    assert.doesNotMatch(r.stdout, /^iptables:/m);

    n = node({ fail: ['ip6tables-save'] });
    r = run(n);
    assert.equal(r.code, 1);
    assert.equal(read(n, 'iptables.restored'), V4_CLEAN);
    assert.ok(!r.calls.includes('ip6tables-restore '), 'no restore after a failed save');

    n = node({ fail: ['ip'] });
    r = run(n);
    assert.equal(r.code, 0, 'ip link show failing reads as "no such device"');
    n = node();
    fs.writeFileSync(
      path.join(n.stubs, 'ip'),
      '#!/bin/sh\n[ "$2" = show ] && exit 0\necho "RTNETLINK answers: Operation not permitted" >&2\nexit 2\n',
      { mode: 0o755 },
    );
    r = run(n);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Operation not permitted/);
  });

  it('IPVS: cleared and kube-ipvs0 deleted only when kube-ipvs0 exists; ipvsadm missing is skipped', () => {
    let n = node({ links: ['kube-ipvs0', 'cni0'], ipvs: true });
    let r = run(n);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.calls.includes('ipvsadm --clear'));
    assert.equal(read(n, 'ipvs'), '');
    assert.deepEqual(links(n), []);
    assert.match(
      r.stdout,
      /^ipvs: cleared the IPVS tables\nip: deleted device kube-ipvs0\nip: deleted device cni0\n$/m,
    );

    n = node({ links: ['kube-ipvs0'], tools: ['ip'] });
    r = run(n);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(links(n), []);

    n = node({ links: ['cni0'], ipvs: true });
    r = run(n);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.calls.some((c) => c.startsWith('ipvsadm')), 'no kube-ipvs0: IPVS is not ours to clear');
    assert.notEqual(read(n, 'ipvs'), '');

    n = node({ links: ['kube-ipvs0'], fail: ['ipvsadm'] });
    r = run(n);
    assert.equal(r.code, 1);
    assert.deepEqual(links(n), [], 'the device goes even so');
  });

  it('hostile login-user homes stay inert: quoted, never expanded, globbed or split', () => {
    const names = [
      `x'; touch PWNED; echo '`,
      '$(touch PWNED)',
      '`touch PWNED`',
      'a\nb',
      '*',
      ' spaced out ',
      '-rf',
      'semi;colon&amp|pipe>redir',
    ];
    for (const name of names) {
      const n = node({ tools: [] });
      const homes = path.join(n.dir, 'homes');
      const hostile = path.join(homes, name);
      const bystander = path.join(homes, 'bystander');
      for (const h of [hostile, bystander]) {
        fs.mkdirSync(path.join(h, '.kube'), { recursive: true });
        fs.writeFileSync(path.join(h, '.kube', 'config'), 'x');
      }
      const r = run(n, '/bin/sh', which('awk'), { ...n.opts, userHome: hostile });
      assert.equal(r.code, 0, `${JSON.stringify(name)}: ${r.stderr}`);
      assert.equal(fs.existsSync(path.join(hostile, '.kube', 'config')), false, JSON.stringify(name));
      assert.ok(fs.existsSync(path.join(bystander, '.kube', 'config')), `${JSON.stringify(name)} reached a bystander`);
      assert.equal(fs.existsSync(path.join(n.dir, 'PWNED')), false, `${JSON.stringify(name)} ran a command`);
      assert.ok(fs.existsSync(path.join(n.home, '.kube', 'config')), 'the default home is not touched');
    }
  });

  it('refuses a home or path that is not absolute, is /, or holds a NUL', () => {
    for (const userHome of ['', 'home/kha', '~kha', '/', '//', '/home/\0kha'])
      assert.throws(() => resetCleanupCommand({ userHome }), /login user home/, JSON.stringify(userHome));
    assert.throws(() => resetCleanupCommand({ paths: { cniConfDir: 'etc/cni/net.d' } }), /CNI configuration folder/);
    assert.throws(() => resetCleanupCommand({ paths: { rootKubeconfig: '' } }), /root's kubeconfig/);
  });

  it('production defaults; root once; never a blanket flush; the same command every time', () => {
    const c = resetCleanupCommand({ userHome: '/home/kha/' });
    assert.ok(c.includes(`rm -rf -- '${CNI_CONF_DIR}'/* '${CNI_CONF_DIR}'/.[!.]* '${CNI_CONF_DIR}'/..?*`));
    assert.ok(c.includes(`rm -f -- '${ROOT_KUBECONFIG}' '/home/kha/.kube/config'`));
    assert.ok(resetCleanupCommand({ userHome: '/root' }).includes(`rm -f -- '${ROOT_KUBECONFIG}' ||`));
    assert.ok(resetCleanupCommand().includes(`rm -f -- '${ROOT_KUBECONFIG}' ||`));
    assert.doesNotMatch(c, /iptables\s+(-t \S+ )?-[FXZ]|--flush|--delete-chain/);
    assert.equal(c, resetCleanupCommand({ userHome: '/home/kha/' }));
    assert.match(c, /^\(rc=0\n[\s\S]*\nexit \$rc\)$/);
  });

  it('RESET_CLEANUP_STEPS names each part, in order', () => {
    assert.equal(RESET_CLEANUP_STEPS.length, 5);
    const [cni, kubeconfig, iptables, ipvs, devices] = RESET_CLEANUP_STEPS;
    assert.match(cni, /\/etc\/cni\/net\.d/);
    assert.match(kubeconfig, /\/root\/\.kube\/config.*~\/\.kube\/config/);
    assert.match(iptables, /KUBE-\*, CNI-\*, FLANNEL-\*.*host's own rules and policies stay/);
    assert.match(ipvs, /ipvsadm --clear.*kube-ipvs0/);
    assert.match(devices, /cni0 and flannel\.1/);
  });
});
