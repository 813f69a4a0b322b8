// One simulated host = a real sshd in its own mount+UTS namespace with per-host bind mounts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { HOST_MOUNTS, LOGIN_USER, SSH_PORT, hostDir, logDir, runDir } from './layout';
import { sh, stopPidFile, waitForPidFile } from './proc';
import { userIds } from './system';
import { HostRole } from './types';

export interface HostSetup {
  dir: string;
  name: string;
  role: HostRole;
  address: string;
  kubernetesVersion: string;
  discoveryTimeout: string;
}

const SSHD = '/usr/sbin/sshd'; // re-exec requires an absolute path

function sshdConfig(h: HostSetup): string {
  const d = hostDir(h.dir, h.name);
  return [
    `ListenAddress ${h.address}`,
    `Port ${SSH_PORT}`,
    `HostKey ${d}/ssh_host_ed25519_key`,
    `PidFile ${runDir(h.dir, h.name)}/sshd.pid`,
    `AuthorizedKeysFile ${d}/authorized_keys`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxSessions 32',
    'MaxStartups 100:30:200',
    'AcceptEnv LANG LC_*',
    `SetEnv FLEET_HOST=${h.name}`,
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/** Shell-quote for the tiny wrapper scripts. */
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function wrapper(h: HostSetup, script: string): string {
  const standins = path.join(__dirname, 'standins');
  // yaml must resolve even when the compiled code lives outside the project tree.
  const nodePath = path.dirname(path.dirname(require.resolve('yaml/package.json')));
  return [
    '#!/bin/sh',
    '# kubeadm-ha local fleet stand-in wrapper: fixes this host\'s identity, then runs the stand-in.',
    `export FLEET_DIR=${q(path.resolve(h.dir))} FLEET_HOST=${q(h.name)} FLEET_ADDRESS=${q(h.address)}`,
    `export FLEET_ROLE=${q(h.role)} FLEET_K8S_VERSION=${q(h.kubernetesVersion)}`,
    `export FLEET_DISCOVERY_TIMEOUT=${q(h.discoveryTimeout)} NODE_PATH=${q(nodePath)}`,
    `exec ${q(process.execPath)} ${q(path.join(standins, script))} "$@"`,
    '',
  ].join('\n');
}

export function prepareHost(h: HostSetup, clientPub: string, peers: Array<{ name: string; address: string }>): string {
  const d = hostDir(h.dir, h.name);
  fs.rmSync(d, { recursive: true, force: true });
  for (const [, sub] of HOST_MOUNTS) fs.mkdirSync(path.join(d, sub), { recursive: true });
  fs.mkdirSync(runDir(h.dir, h.name), { recursive: true });
  fs.mkdirSync(logDir(h.dir, h.name), { recursive: true });
  // Like a node with the kubelet package installed: the manifests dir exists but is empty.
  fs.mkdirSync(path.join(d, 'etc-kubernetes', 'manifests'), { recursive: true });
  const { uid, gid } = userIds(LOGIN_USER);
  fs.chownSync(path.join(d, 'home-kha'), uid, gid);
  fs.chmodSync(path.join(d, 'home-kha'), 0o755);

  const base = fs.readFileSync('/etc/hosts', 'utf8').replace(/\n?$/, '\n');
  fs.writeFileSync(`${d}/etc-hosts`, base + '# kubeadm-ha fleet\n' + peers.map((p) => `${p.address}\t${p.name}\n`).join(''));
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${d}/ssh_host_ed25519_key`, '-C', h.name]);
  fs.writeFileSync(`${d}/authorized_keys`, clientPub, { mode: 0o644 });
  fs.writeFileSync(`${d}/sshd_config`, sshdConfig(h));
  const sbin = path.join(d, 'usr-local-sbin');
  fs.writeFileSync(path.join(sbin, 'kubeadm'), wrapper(h, 'kubeadm.js'), { mode: 0o755 });
  fs.writeFileSync(path.join(sbin, 'kubectl'), wrapper(h, 'kubectl.js'), { mode: 0o755 });
  sh(SSHD, ['-t', '-f', `${d}/sshd_config`]);
  const pub = fs.readFileSync(`${d}/ssh_host_ed25519_key.pub`, 'utf8').trim().split(/\s+/);
  return `[${h.address}]:${SSH_PORT} ${pub[0]} ${pub[1]}`;
}

/** Start sshd inside a fresh mount+UTS namespace; returns its pid. */
export function startHost(dir: string, name: string): number {
  const d = hostDir(dir, name);
  const pidFile = path.join(runDir(dir, name), 'sshd.pid');
  fs.rmSync(pidFile, { force: true });
  const mounts = HOST_MOUNTS.map(([target, sub]) => `mount --bind ${q(path.join(d, sub))} ${q(target)}`);
  // Own /etc/hosts so the hostname resolves (sudo complains otherwise) and hosts know each other.
  mounts.push(`mount --bind ${q(d + '/etc-hosts')} /etc/hosts`);
  const script = [...mounts, `hostname ${q(name)}`, `exec ${SSHD} -f ${q(d + '/sshd_config')} -E ${q(d + '/sshd.log')}`].join(' && ');
  const r = spawnSync('unshare', ['--mount', '--uts', '--propagation', 'private', '--', '/bin/sh', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`starting sshd for ${name} failed: ${r.stderr}`);
  // sshd daemonises and writes its PidFile once it listens.
  return waitForPidFile(pidFile, `sshd for ${name} did not write ${pidFile}; see ${d}/sshd.log`);
}

export function stopHostSshd(dir: string, name: string): boolean {
  return stopPidFile(path.join(runDir(dir, name), 'sshd.pid'), 'sshd');
}

/** Stops every pid file under hosts/<name>/run (sshd and stand-in daemons). */
export function stopHostAll(dir: string, name: string): void {
  const rd = runDir(dir, name);
  let files: string[] = [];
  try {
    files = fs.readdirSync(rd).filter((f) => f.endsWith('.pid'));
  } catch {
    return;
  }
  // Daemons first, sshd last, so nothing new gets started from a session meanwhile.
  files.sort((a, b) => (a === 'sshd.pid' ? 1 : b === 'sshd.pid' ? -1 : 0));
  for (const f of files) stopPidFile(path.join(rd, f), f === 'sshd.pid' ? 'sshd' : 'node');
}
