// Stand-in `kubeadm` entry point (run through the per-host wrapper in /usr/local/sbin).
import * as fs from 'node:fs';
import { hostEnv } from './env';
import { ExitError, runMain } from './errors';
import { applyFaults } from './faultcheck';
import { bool, parseFlags, str } from './flags';
import { init } from './init';
import { join } from './join';
import { reset } from './reset';
import { token } from './token';
import { encryptCerts, randomKey } from './uploadcerts';
import { updateState } from './state';
import { out } from './nodesetup';
import { loadConfigFile } from './config';
import { recordInvocation } from '../invocations';
import { passThrough, realKubeadm } from './realkubeadm';
import { ETCD_CERT_PHASES, etcdCertPhase } from './etcdcerts';
import { etcdLocalPhase } from './etcdlocal';

const GIT: Record<string, [string, string, string]> = {
  'v1.31.4': ['a78aa47129b8539636eb86a9d00e31b2720fe06b', '2024-12-10T18:44:28Z', 'go1.22.9'],
};

function version(argv: string[]): number {
  const e = hostEnv();
  const p = parseFlags(argv, { output: 'string', v: 'string' }, { o: 'output', v: 'v' });
  const [commit, date, go] = GIT[e.version] ?? [
    '0000000000000000000000000000000000000000',
    '2024-01-01T00:00:00Z',
    'go1.22.0',
  ];
  const info = {
    major: '1',
    minor: String(e.minor),
    gitVersion: e.version,
    gitCommit: commit,
    gitTreeState: 'clean',
    buildDate: date,
    goVersion: go,
    compiler: 'gc',
    platform: 'linux/amd64',
  };
  const o = str(p, 'output') ?? '';
  if (o === 'short') out(e.version);
  else if (o === 'json') out(JSON.stringify({ clientVersion: info }, null, 2));
  else if (o === 'yaml')
    out('clientVersion:', ...Object.entries(info).map(([k, v]) => `  ${k}: ${/^\d/.test(v) ? `"${v}"` : v}`));
  else if (o === '')
    out(
      `kubeadm version: &version.Info{Major:"1", Minor:"${e.minor}", GitVersion:"${e.version}", GitCommit:"${commit}", GitTreeState:"clean", BuildDate:"${date}", GoVersion:"${go}", Compiler:"gc", Platform:"linux/amd64"}`,
    );
  else throw new ExitError(`invalid output format: ${o}`);
  return 0;
}

/** `kubeadm init phase upload-certs --upload-certs [--certificate-key K] [--config F]` */
function uploadCerts(argv: string[]): number {
  const e = hostEnv();
  const p = parseFlags(
    argv,
    {
      'upload-certs': 'bool',
      'certificate-key': 'string',
      config: 'string',
      kubeconfig: 'string',
      'skip-certificate-key-print': 'bool',
      'dry-run': 'bool',
      v: 'string',
    },
    { v: 'v' },
  );
  if (!bool(p, 'upload-certs')) {
    out('[upload-certs] Skipping phase. Please see --upload-certs');
    return 0;
  }
  if (!fs.existsSync('/etc/kubernetes/pki/ca.crt'))
    throw new ExitError(
      'error execution phase upload-certs: error uploading certs: failed to load ca.crt: open /etc/kubernetes/pki/ca.crt: no such file or directory',
    );
  const cfg = str(p, 'config')
    ? loadConfigFile(str(p, 'config')!, e.minor, ['InitConfiguration', 'ClusterConfiguration'])
    : undefined;
  const external = !!cfg?.docs.get('ClusterConfiguration')?.etcd?.external;
  const key = str(p, 'certificate-key') ?? cfg?.docs.get('InitConfiguration')?.certificateKey ?? randomKey();
  if (!/^[a-f0-9]{64}$/.test(key))
    throw new ExitError(
      'error execution phase upload-certs: error uploading certs: error decoding certificate key: encoding/hex: invalid byte',
    );
  updateState(e.dir, (s) => (s.certsSecret = encryptCerts(key, external)));
  out(
    '[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace',
    '[upload-certs] Using certificate key:',
    bool(p, 'skip-certificate-key-print') ? '<value withheld>' : key,
  );
  return 0;
}

/** What the real binary of the played release does here as on a node: no kubelet or cluster involved. */
function realCommand(argv: string[]): boolean {
  const [cmd, sub, phase] = argv;
  return (
    (cmd === 'init' && sub === 'phase' && (phase === 'certs' || phase === 'kubeconfig')) ||
    (cmd === 'token' && sub === 'generate') ||
    (cmd === 'certs' && sub === 'certificate-key') ||
    (cmd === 'config' && sub === 'validate')
  );
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  recordInvocation(hostEnv().dir, hostEnv().host, argv);
  await applyFaults('kubeadm', argv);
  const real = realKubeadm(hostEnv().minor);
  if (real && realCommand(argv)) return passThrough(real, argv);
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'version':
      return version(rest);
    case 'init':
      if (rest[0] === 'phase' && rest[1] === 'upload-certs') return uploadCerts(rest.slice(2));
      // The phases of the external etcd guide (kubeadm's setup-ha-etcd-with-kubeadm page).
      if (rest[0] === 'phase' && rest[1] === 'certs' && ETCD_CERT_PHASES.includes(rest[2]))
        return etcdCertPhase(rest[2], rest.slice(3));
      if (rest[0] === 'phase' && rest[1] === 'etcd' && rest[2] === 'local') return etcdLocalPhase(rest.slice(3));
      if (rest[0] === 'phase')
        throw new ExitError(`the fleet stand-in does not implement "kubeadm init phase ${rest[1] ?? ''}"`);
      return init(rest);
    case 'join':
      return join(rest);
    case 'reset':
      return reset(rest);
    case 'token':
      return token(rest);
    case 'certs':
      if (rest[0] === 'certificate-key') {
        out(randomKey());
        return 0;
      }
      throw new ExitError(`unknown command "${rest[0] ?? ''}" for "kubeadm certs"`);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(
        'kubeadm: easily bootstrap a secure Kubernetes cluster (local fleet stand-in)',
        '',
        'Usage:',
        '  kubeadm [command]',
      );
      return 0;
    default:
      if (cmd.startsWith('-')) parseFlags([cmd], { v: 'string' }, { v: 'v' });
      throw new ExitError(`unknown command "${cmd}" for "kubeadm"`);
  }
}

runMain(main);
