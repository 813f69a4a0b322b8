// Our rendered configs and our CA hash command against the real kubeadm of each release in
// fleet/real-kubeadm.ts (built by scripts/build-kubernetes.sh; scripts/test.sh builds them first).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { REAL_KUBEADM_VERSIONS, realKubeadmPath } from '../../fleet/real-kubeadm';
import { renderInitConfig, renderJoinConfig, type InitConfigInput } from '../../src/kubeadm/config';
import { renderEtcdMemberConfig } from '../../src/kubeadm/external-etcd';
import { upgradeApplyCommand, upgradeNodeCommand, upgradePlanCommand } from '../../src/kubeadm/upgrade';

const ETCD_MEMBERS = [1, 2, 3].map((i) => ({ name: `etcd${i}`, address: `198.18.0.4${i}`, port: 22 }));
import { caCertHashCommand, parseCaCertHash } from '../../src/kubeadm/certs';

const HASH = 'sha256:8817bb69522a72618241f20adfede139743f48403367cec3f4144b43f918b97d';
const KEY = 'f9ea00c50ef12a386949dfb84b3abb2aa1053cc84f3792cd4b8aa6cc42c1fd57';
const TOKEN = '38tjlt.ibkwbtflmj6w8qmg';
const LB = '198.18.0.100:6443';
const HINT = 'To see the stack trace of this error execute with --v=5 or higher\n';

/**
 * Preflight errors `kubeadm init --dry-run` must be told to ignore on a test machine; each check is in
 * cmd/kubeadm/app/preflight/checks.go. The run happens in a fresh network namespace (no stand-in's
 * listener makes a Port-* check fail) with net.ipv4.ip_forward=1 set there, as the "Container
 * Runtimes" prerequisites page (kubernetes.io/docs/setup/production-environment/container-runtimes/)
 * has every node do, so no Port-* or FileContent--proc-sys-net-ipv4-ip_forward entry is needed.
 */
const DRY_RUN_IGNORED = [
  'CRI', // no container runtime: nothing listens on unix:///var/run/containerd/containerd.sock
  'ContainerRuntimeVersion', // the same socket, asked for the runtime's version
  'KubeletVersion', // no kubelet binary: "cannot execute 'kubelet --version'"
  'SystemVerification', // also runs `kubelet --version` (to pick the cgroup checks)
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function initInput(version: string, extra: Partial<InitConfigInput> = {}): InitConfigInput {
  return {
    kubernetesVersion: version,
    nodeName: 'cp1',
    advertiseAddress: '198.18.0.11',
    controlPlaneEndpoint: LB,
    certSANs: ['198.18.0.100', 'lb.example.com'],
    podSubnet: '192.168.0.0/16',
    ...extra,
  };
}

const ETCD = {
  external: {
    endpoints: ['https://198.18.0.41:2379', 'https://198.18.0.42:2379', 'https://198.18.0.43:2379'],
    caFile: '/etc/kubernetes/pki/etcd/ca.crt',
    certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
    keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key',
  },
};

/** The same YAML with ClusterConfiguration.certificatesDir set (`--cert-dir` cannot be mixed with `--config`). */
function withCertificatesDir(yamlText: string, dir: string): string {
  return parseAllDocuments(yamlText)
    .map((d) => {
      const o = d.toJS();
      if (o.kind === 'ClusterConfiguration') o.certificatesDir = dir;
      return stringify(o, { lineWidth: 0 });
    })
    .join('---\n');
}

function spkiHash(certFile: string): string {
  const der = new crypto.X509Certificate(fs.readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return 'sha256:' + crypto.createHash('sha256').update(der).digest('hex');
}

for (const version of REAL_KUBEADM_VERSIONS) {
  const minor = Number(version.split('.')[1]);
  describe(`the real kubeadm ${version}`, () => {
    const bin = realKubeadmPath(version);
    let dir = '';
    let n = 0;
    const timings: string[] = [];
    const file = (text: string): string => {
      const f = path.join(dir, `config-${n++}.yaml`);
      fs.writeFileSync(f, text);
      return f;
    };
    const kubeadm = (args: string[], opts: { netns?: boolean; env?: NodeJS.ProcessEnv } = {}): Run => {
      assert.ok(fs.existsSync(bin), `${bin} is missing: run scripts/build-kubernetes.sh ${version}`);
      const [cmd, argv] = opts.netns
        ? [
            'unshare',
            ['--net', '--', 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward && exec "$0" "$@"', bin, ...args],
          ]
        : [bin, args];
      const t = performance.now();
      const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...opts.env }, timeout: 60000 });
      const run = {
        code: r.status ?? -1,
        stdout: r.stdout ?? '',
        stderr: r.stderr ?? '',
        ms: Math.round(performance.now() - t),
      };
      timings.push(`${version} kubeadm ${args.slice(0, 2).join(' ')}: ${run.ms} ms`);
      return run;
    };
    const validate = (text: string): Run => kubeadm(['config', 'validate', '--config', file(text)]);

    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `kha-real-kubeadm-${version}-`));
    });
    after(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      console.log(`# ${timings.join('; ')}`);
    });

    it('validates every config we render for it', () => {
      const join = { kubernetesVersion: version, apiServerEndpoint: LB, token: TOKEN, caCertHashes: [HASH] };
      const configs: Record<string, string> = {
        'init, stacked etcd': renderInitConfig(
          initInput(version, { apiServerExtraArgs: { 'audit-log-maxage': '30' } }),
        ),
        'init, external etcd': renderInitConfig(
          initInput(version, { etcd: ETCD, serviceSubnet: '10.96.0.0/12', bindPort: 8443 }),
        ),
        'init with certificateKey': renderInitConfig(initInput(version, { certificateKey: KEY })),
        'join, worker': renderJoinConfig({ ...join, nodeName: 'w1' }),
        'join, control plane': renderJoinConfig({
          ...join,
          nodeName: 'cp2',
          controlPlane: { advertiseAddress: '198.18.0.12' },
        }),
        'join, control plane with certificateKey': renderJoinConfig({
          ...join,
          nodeName: 'cp3',
          controlPlane: { advertiseAddress: '198.18.0.13', certificateKey: KEY },
        }),
        'external etcd member (the HA etcd guide)': renderEtcdMemberConfig(version, ETCD_MEMBERS[1], ETCD_MEMBERS),
        'upgrade apply (UpgradeConfiguration)': upgradeApplyCommand(version, {
          ignorePreflightErrors: ['CoreDNSUnsupportedPlugins'],
          patches: '/etc/kubeadm-ha/patches',
        }).configFile!.content,
      };
      for (const [what, text] of Object.entries(configs)) {
        const r = validate(text);
        assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'ok\n', ''], `${what}:\n${text}`);
      }
    });

    it('knows every flag of our upgrade commands', () => {
      const opts = { ignorePreflightErrors: ['CoreDNSUnsupportedPlugins'], patches: '/etc/kubeadm-ha/patches' };
      for (const command of [
        upgradePlanCommand(version, opts),
        upgradeApplyCommand(version, opts).command,
        upgradeNodeCommand(version, 'control-plane', opts),
      ]) {
        const sub = command.split(' ')[2];
        const help = kubeadm(['upgrade', sub, '--help']);
        assert.equal(help.code, 0, help.stderr);
        for (const flag of command.match(/ --[a-z-]+/g) ?? [])
          assert.ok(help.stdout.includes(`${flag.trim()} `), `${command}: ${flag}`);
      }
    });

    it('rejects an unknown field with the strict decoding error', () => {
      const text = renderInitConfig(initInput(version)).replace('podSubnet:', 'podSubnett:');
      const r = validate(text);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        'error: error unmarshaling configuration schema.GroupVersionKind{Group:"kubeadm.k8s.io", Version:"v1beta4", Kind:"ClusterConfiguration"}: ' +
          `strict decoding error: unknown field "networking.podSubnett"\n${HINT}`,
      );
    });

    it('rejects config APIs it no longer reads (kubeadm.k8s.io/v1beta2; v1beta3 from 1.37)', () => {
      const old = (api: string, use: string): string =>
        `error: your configuration file uses an old API spec: "kubeadm.k8s.io/${api}" (kind: "ClusterConfiguration"). Please use kubeadm ${use} instead and run ` +
        "'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.\n" +
        HINT;
      // What we render for 1.21 (v1beta2) and 1.30 (v1beta3), with this release's kubernetesVersion.
      const v1beta2 = validate(renderInitConfig(initInput('v1.21.14')).replaceAll('v1.21.14', version));
      assert.deepEqual([v1beta2.code, v1beta2.stderr], [1, old('v1beta2', 'v1.22')]);
      const v1beta3 = validate(renderInitConfig(initInput('v1.30.14')).replaceAll('v1.30.14', version));
      if (minor >= 37) assert.deepEqual([v1beta3.code, v1beta3.stderr], [1, old('v1beta3', 'v1.36')]);
      else assert.deepEqual([v1beta3.code, v1beta3.stdout], [0, 'ok\n'], v1beta3.stderr);
    });

    it('init --dry-run with our config: only the ignored checks warn; our CA hash and certificate key are the ones it prints', () => {
      const out = path.join(dir, 'dry-run');
      fs.mkdirSync(out);
      const config = file(
        withCertificatesDir(renderInitConfig(initInput(version, { certificateKey: KEY })), path.join(dir, 'pki')),
      );
      const r = kubeadm(
        [
          'init',
          '--dry-run',
          '--upload-certs',
          '--config',
          config,
          `--ignore-preflight-errors=${DRY_RUN_IGNORED.join(',')}`,
        ],
        {
          netns: true,
          env: { KUBEADM_INIT_DRYRUN_DIR: out },
        },
      );
      assert.equal(r.code, 0, r.stderr);
      // Only the ignored checks are reported as errors turned warnings.
      for (const m of r.stderr.matchAll(/\[WARNING ([^\]]+)\]/g))
        assert.ok(DRY_RUN_IGNORED.includes(m[1]) || ['Hostname', 'Service-kubelet'].includes(m[1]), m[0]);

      const ca = path.join(out, 'ca.crt');
      const hash = spkiHash(ca);
      const shell = spawnSync('sh', ['-c', caCertHashCommand().replace('/etc/kubernetes/pki/ca.crt', ca)], {
        encoding: 'utf8',
      });
      assert.equal(parseCaCertHash(shell.stdout), hash);
      // The joins rely on both: kubeadm pins the CA we compute, and uses the certificate key we set.
      assert.ok(r.stdout.includes(`--discovery-token-ca-cert-hash ${hash}`), 'the printed join pins our CA hash');
      assert.ok(
        r.stdout.includes(`--certificate-key ${KEY}`),
        'the printed control-plane join uses our certificate key',
      );
      assert.ok(
        !fs.existsSync(path.join(dir, 'pki')),
        'dry-run writes its certificates to KUBEADM_INIT_DRYRUN_DIR only',
      );
    });
  });
}
