// kubeadm reset: best-effort revert of init/join on this host (cmd/kubeadm/app/cmd/phases/reset).
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { hostEnv } from './env';
import { ExitError } from './errors';
import { bool, list, parseFlags, str } from './flags';
import { RESET_TRAILER, RUNNING_PREFLIGHT } from './texts';
import { privilegedUser, runChecks } from './preflight';
import { stopDaemon, stopEtcdPod } from './daemons';
import { updateState } from './state';
import { out } from './nodesetup';

const FLAGS = {
  force: 'bool',
  'cert-dir': 'string',
  'cleanup-tmp-dir': 'bool',
  config: 'string',
  'cri-socket': 'string',
  'dry-run': 'bool',
  'ignore-preflight-errors': 'list',
  kubeconfig: 'string',
  'skip-phases': 'list',
  v: 'string',
} as const;

function ask(q: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((r) => rl.question(q, (a) => (rl.close(), r(a))));
}

function emptyDir(dir: string): void {
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    fs.rmSync(`${dir}/${f}`, { recursive: true, force: true });
}

export async function reset(argv: string[]): Promise<number> {
  const e = hostEnv();
  const p = parseFlags(argv, FLAGS, { f: 'force', v: 'v' });
  const certDir = str(p, 'cert-dir') ?? '/etc/kubernetes/pki';
  if (!bool(p, 'force')) {
    process.stderr.write(
      "[reset] WARNING: Changes made to this host by 'kubeadm init' or 'kubeadm join' will be reverted.\n",
    );
    const a = (await ask('[reset] Are you sure you want to proceed? [y/N]: ')).trim();
    if (a !== 'y' && a !== 'Y') throw new ExitError('aborted reset operation');
  }
  out(RUNNING_PREFLIGHT);
  await runChecks([privilegedUser()], list(p, 'ignore-preflight-errors'));

  const stackedMember = fs.existsSync('/etc/kubernetes/manifests/etcd.yaml');
  if (stackedMember) {
    // remove-etcd-member: this node leaves the etcd cluster (its Node object stays).
    updateState(e.dir, (s) => {
      s.etcdMembers = s.etcdMembers.filter((m) => m.name !== e.host && !m.peerURL.includes(`//${e.address}:`));
    });
  }
  if (stackedMember || fs.existsSync('/var/lib/etcd/member')) {
    emptyDir('/var/lib/etcd');
    out('[reset] Deleted contents of the etcd data directory: /var/lib/etcd');
  }
  out('[reset] Stopping the kubelet service');
  stopDaemon('kubelet');
  // An etcd host's real etcd (the kubelet stand-in stops it too, unless the kubelet was killed).
  stopEtcdPod();
  // The static Pods' containers go away with the cleanup (no kubelet restarts them).
  stopDaemon('apiserver');
  out('[reset] Unmounting mounted directories in "/var/lib/kubelet"');
  const dirs = ['/etc/kubernetes/manifests', '/var/lib/kubelet', certDir];
  if (bool(p, 'cleanup-tmp-dir')) dirs.push('/etc/kubernetes/tmp');
  dirs.forEach(emptyDir);
  out(`[reset] Deleting contents of directories: [${dirs.join(' ')}]`);
  const files = [
    'admin.conf',
    ...(e.minor >= 29 ? ['super-admin.conf'] : []),
    'kubelet.conf',
    'bootstrap-kubelet.conf',
    'controller-manager.conf',
    'scheduler.conf',
  ].map((f) => `/etc/kubernetes/${f}`);
  files.forEach((f) => fs.rmSync(f, { force: true }));
  out(`[reset] Deleting files: [${files.join(' ')}]`);
  process.stdout.write(RESET_TRAILER);
  return 0;
}
