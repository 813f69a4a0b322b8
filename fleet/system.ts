// One-time machine preparation (idempotent): login user, sudo rule, sshd privsep dir and the
// mount points that every host namespace bind-mounts over.
import * as fs from 'node:fs';
import { HOST_MOUNTS, LOGIN_USER } from './layout';
import { sh } from './proc';

// What the fleet runs, and the Debian package that brings it.
const TOOLS: [string, string][] = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['/usr/sbin/haproxy', 'haproxy'],
  ['/usr/bin/sudo', 'sudo'],
  ['/usr/sbin/iptables', 'iptables'],
  ['/usr/bin/openssl', 'openssl'],
  ['/usr/bin/unshare', 'util-linux'],
];

export function prepareMachine(): void {
  if (process.getuid?.() !== 0) throw new Error('the fleet needs root (namespaces, sshd, iptables)');
  const missing = TOOLS.filter(([file]) => !fs.existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `the fleet needs ${missing.map(([file, pkg]) => `${file} (Debian package ${pkg})`).join(', ')}; ` +
        'install them with: bash scripts/setup.sh',
    );
  }
  // sshd refuses to start without its privilege-separation directory.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  fs.chmodSync('/run/sshd', 0o755);

  const known = sh('getent', ['passwd', LOGIN_USER], { allowFail: true });
  if (!known.trim()) sh('useradd', ['-m', '-s', '/bin/bash', LOGIN_USER]);
  // A plain useradd leaves the account locked ('!'); with UsePAM no sshd then refuses keys.
  sh('usermod', ['-p', '*', LOGIN_USER]);

  const sudoers = `/etc/sudoers.d/${LOGIN_USER}`;
  const rule = `${LOGIN_USER} ALL=(ALL) NOPASSWD:ALL\n`;
  if (!fs.existsSync(sudoers) || fs.readFileSync(sudoers, 'utf8') !== rule) {
    fs.writeFileSync(sudoers, rule, { mode: 0o440 });
  }
  fs.chmodSync(sudoers, 0o440);

  // Bind mounts need their targets to exist in the parent view; create empty dirs if missing.
  for (const [target] of HOST_MOUNTS) fs.mkdirSync(target, { recursive: true });
}

export function userIds(user: string): { uid: number; gid: number } {
  const line = sh('getent', ['passwd', user]).trim().split(':');
  return { uid: Number(line[2]), gid: Number(line[3]) };
}
