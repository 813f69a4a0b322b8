// One simulated host = a real sshd in its own mount+UTS namespace with per-host bind mounts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CODE_MOUNT,
  HOST_MOUNTS,
  LOGIN_USER,
  SSH_PORT,
  hostDir,
  invocationsFile,
  logDir,
  netInvocationsFile,
  runDir,
} from './layout';
import { repoRoot } from './real-kubeadm';
import { cmdline, readPid, stopPidFile, stopPidFiles, stopPids, waitForPidFile } from './proc';
import { daemonPids } from './standins/daemons';
import { seedNetState } from './standins/netstate';
import { userIds } from './system';
import { HostRole } from './types';

export interface HostSetup {
  dir: string;
  name: string;
  role: HostRole;
  address: string;
  lbAddress: string;
  kubernetesVersion: string;
  discoveryTimeout: string;
}

const SSHD = '/usr/sbin/sshd'; // re-exec requires an absolute path

/** A path as an sshd_config argument: double-quoted, so a folder with a space in its name works. */
function configPath(p: string): string {
  if (/["\n]/.test(p))
    throw new Error(
      `the fleet folder ${JSON.stringify(p)} has a double quote or a newline in its path, which sshd_config cannot hold; choose another folder`,
    );
  return `"${p}"`;
}

/** sshd_config of a host whose folder sshd sees at `d` (a real node sees its folder elsewhere). */
export function sshdConfig(h: { name: string; role: HostRole; address: string }, d: string): string {
  return [
    `ListenAddress ${h.address}`,
    `Port ${SSH_PORT}`,
    `HostKey ${configPath(`${d}/ssh_host_ed25519_key`)}`,
    `PidFile ${configPath(`${d}/run/sshd.pid`)}`,
    // sshd reads an AuthorizedKeysFile with the login user's rights, and a fleet under a 0700 folder
    // (root's home, mktemp -d) is not traversable by that user: root reads it for sshd instead.
    'AuthorizedKeysFile none',
    `AuthorizedKeysCommand /usr/bin/cat ${configPath(`${d}/authorized_keys`)}`,
    'AuthorizedKeysCommandUser root',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxSessions 32',
    'MaxStartups 100:30:200',
    'AcceptEnv LANG LC_*',
    // sshd_config(5) defaults, spelled out: the kubeadm HA page copies certificates with `ssh -A`, and
    // the bastion relays the worker's connections to the hosts (ssh.jumpHost, direct-tcpip channels).
    'AllowAgentForwarding yes',
    ...(h.role === 'bastion' ? ['AllowTcpForwarding yes', 'PermitOpen any'] : []),
    // A node's PATH with the stand-ins in /usr/local/sbin (Debian's users get no sbin dirs otherwise).
    `SetEnv FLEET_HOST=${h.name} PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/** Shell-quote for the tiny wrapper scripts. */
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A path of the project as the hosts see it, under CODE_MOUNT (a path outside the project is left as it is). */
function inHost(p: string): string {
  const rel = path.relative(repoRoot(), p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : path.join(CODE_MOUNT, rel);
}

/** The stand-ins of the network tools (standins/net.ts, one script told which tool it is). */
export const NET_TOOLS = ['iptables-save', 'iptables-restore', 'ip6tables-save', 'ip6tables-restore', 'ip', 'ipvsadm'];

function wrapper(h: HostSetup, script: string, lead: string[] = []): string {
  const standins = inHost(path.join(__dirname, 'standins'));
  // yaml must resolve even when the compiled code lives outside the project tree.
  const nodePath = inHost(path.dirname(path.dirname(require.resolve('yaml/package.json'))));
  return [
    '#!/bin/sh',
    "# kubeadm-ha local fleet stand-in wrapper: fixes this host's identity, then runs the stand-in.",
    `export FLEET_DIR=${q(path.resolve(h.dir))} FLEET_HOST=${q(h.name)} FLEET_ADDRESS=${q(h.address)}`,
    `export FLEET_ROLE=${q(h.role)} FLEET_K8S_VERSION=${q(h.kubernetesVersion)} FLEET_LB=${q(h.lbAddress)}`,
    `export FLEET_DISCOVERY_TIMEOUT=${q(h.discoveryTimeout)} NODE_PATH=${q(nodePath)}`,
    `exec ${[process.execPath, path.join(standins, script), ...lead].map(q).join(' ')} "$@"`,
    '',
  ].join('\n');
}

const run = promisify(execFile);

/** Async so that up prepares many hosts at once (key generation dominates). */
export async function prepareHost(
  h: HostSetup,
  clientPub: string,
  peers: Array<{ name: string; address: string; role: HostRole }>,
): Promise<string> {
  const d = hostDir(h.dir, h.name);
  fs.rmSync(d, { recursive: true, force: true });
  for (const [, sub] of HOST_MOUNTS) fs.mkdirSync(path.join(d, sub), { recursive: true });
  fs.mkdirSync(path.join(d, 'opt', path.basename(CODE_MOUNT)), { recursive: true });
  fs.mkdirSync(runDir(h.dir, h.name), { recursive: true });
  fs.mkdirSync(logDir(h.dir, h.name), { recursive: true });
  // kubeadm without sudo (e.g. `kubeadm version`) is recorded too.
  for (const f of [invocationsFile(h.dir, h.name), netInvocationsFile(h.dir, h.name)]) {
    fs.writeFileSync(f, '');
    fs.chmodSync(f, 0o666);
  }
  seedNetState(h.dir, h.name);
  // Like a node with the kubelet package installed: the manifests dir exists but is empty.
  fs.mkdirSync(path.join(d, 'etc-kubernetes', 'manifests'), { recursive: true });
  const { uid, gid } = userIds(LOGIN_USER);
  fs.chownSync(path.join(d, 'home-kha'), uid, gid);
  fs.chmodSync(path.join(d, 'home-kha'), 0o755);

  const base = fs.readFileSync('/etc/hosts', 'utf8').replace(/\n?$/, '\n');
  // All hosts share one network namespace, so a connection to an etcd member comes from the
  // member's own address, not the dialling peer's. etcd checks a peer certificate's SANs against
  // that address, then against its reverse lookup (checkSAN in etcd's pkg/transport/listener_tls.go):
  // each etcd address also carries the other members' names, so a member's peer certificate matches.
  const etcd = peers.filter((p) => p.role === 'etcd');
  const aliases = etcd
    .map(
      (m) =>
        `${m.address}\t${etcd
          .filter((o) => o !== m)
          .map((o) => o.name)
          .join(' ')}\n`,
    )
    .filter(() => etcd.length > 1);
  fs.writeFileSync(
    `${d}/etc-hosts`,
    base + '# kubeadm-ha fleet\n' + peers.map((p) => `${p.address}\t${p.name}\n`).join('') + aliases.join(''),
  );
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${d}/ssh_host_ed25519_key`, '-C', h.name]);
  fs.writeFileSync(`${d}/authorized_keys`, clientPub, { mode: 0o644 });
  fs.writeFileSync(`${d}/sshd_config`, sshdConfig(h, d));
  const sbin = path.join(d, 'usr-local-sbin');
  fs.writeFileSync(path.join(sbin, 'kubeadm'), wrapper(h, 'kubeadm.js'), { mode: 0o755 });
  fs.writeFileSync(path.join(sbin, 'kubectl'), wrapper(h, 'kubectl.js'), { mode: 0o755 });
  // Ahead of /usr/bin/systemctl on PATH (and sudo's secure_path): the kubelet is the only unit.
  fs.writeFileSync(path.join(sbin, 'systemctl'), wrapper(h, 'systemctl.js'), { mode: 0o755 });
  // Likewise: the hosts share the machine's network namespace, so the real iptables-restore, ip or
  // ipvsadm would change the machine's own tables and devices (see standins/net.ts).
  for (const t of NET_TOOLS) fs.writeFileSync(path.join(sbin, t), wrapper(h, 'net.js', [t]), { mode: 0o755 });
  await run(SSHD, ['-t', '-f', `${d}/sshd_config`]);
  const pub = fs.readFileSync(`${d}/ssh_host_ed25519_key.pub`, 'utf8').trim().split(/\s+/);
  return `[${h.address}]:${SSH_PORT} ${pub[0]} ${pub[1]}`;
}

/** unshare arguments that start the host's sshd inside a fresh mount+UTS namespace. */
function launch(dir: string, name: string): string[] {
  const d = hostDir(dir, name);
  fs.rmSync(sshdPidFile(dir, name), { force: true });
  const mounts = HOST_MOUNTS.map(([target, sub]) => `mount --bind ${q(path.join(d, sub))} ${q(target)}`);
  mounts.push(`mount --bind ${q(repoRoot())} ${CODE_MOUNT}`);
  // Own /etc/hosts so the hostname resolves (sudo complains otherwise) and hosts know each other.
  mounts.push(`mount --bind ${q(d + '/etc-hosts')} /etc/hosts`);
  const script = [
    ...mounts,
    `hostname ${q(name)}`,
    `exec ${SSHD} -f ${q(d + '/sshd_config')} -E ${q(d + '/sshd.log')}`,
  ].join(' && ');
  return ['--mount', '--uts', '--propagation', 'private', '--', '/bin/sh', '-c', script];
}

const sshdPidFile = (dir: string, name: string): string => path.join(runDir(dir, name), 'sshd.pid');

/** sshd daemonises and writes its PidFile once it listens. */
function waitForSshd(dir: string, name: string): number {
  const file = sshdPidFile(dir, name);
  return waitForPidFile(file, `sshd for ${name} did not write ${file}; see ${hostDir(dir, name)}/sshd.log`);
}

/** Starts the host's sshd; returns its pid. */
export function startHost(dir: string, name: string): number {
  const r = spawnSync('unshare', launch(dir, name), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`starting sshd for ${name} failed: ${r.stderr}`);
  return waitForSshd(dir, name);
}

/** Starts many hosts' sshds at once; returns their pids in order. */
export async function startHosts(dir: string, names: string[]): Promise<number[]> {
  await inBatches(names, (n) =>
    run('unshare', launch(dir, n)).catch((e: Error & { stderr?: string }) => {
      throw new Error(`starting sshd for ${n} failed: ${e.stderr ?? e.message}`);
    }),
  );
  return names.map((n) => waitForSshd(dir, n));
}

/** Runs `fn` over `items`, 32 at a time (enough to keep two cores busy with forks and key generation). */
export async function inBatches<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 32) out.push(...(await Promise.all(items.slice(i, i + 32).map(fn))));
  return out;
}

export function stopHostSshd(dir: string, name: string): boolean {
  return stopPidFile(sshdPidFile(dir, name), 'sshd');
}

/**
 * Drops every established SSH connection to the host, as a network cut would, while the listener
 * keeps accepting: kills the listener's per-connection sshd processes ("sshd: kha [priv]" and its
 * privilege-separated child); the commands they ran are left alone. Returns how many were killed.
 */
export function cutSshSessions(dir: string, name: string): number {
  const listener = readPid(path.join(runDir(dir, name), 'sshd.pid'));
  if (!listener) return 0;
  const children = new Map<number, Array<{ pid: number; comm: string }>>();
  for (const f of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${f}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), { pid: Number(f), comm }]);
  }
  const victims: number[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      // OpenSSH >= 9.8 names the per-connection binary sshd-session.
      if (!c.comm.startsWith('sshd')) continue;
      victims.push(c.pid);
      walk(c.pid);
    }
  };
  walk(listener);
  for (const pid of victims) {
    if (!cmdline(pid).startsWith('sshd')) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return victims.length;
}

/** Stops every pid file under hosts/<name>/run of these hosts (sshd and stand-in daemons). */
export function stopHosts(dir: string, names: string[]): void {
  const daemons: Array<{ file: string; expect: string }> = [];
  const sshds: Array<{ file: string; expect: string }> = [];
  for (const name of names) {
    const rd = runDir(dir, name);
    for (const f of fs.existsSync(rd) ? fs.readdirSync(rd).filter((x) => x.endsWith('.pid')) : []) {
      if (f === 'sshd.pid') sshds.push({ file: path.join(rd, f), expect: 'sshd' });
      // The real etcd an etcd host's kubelet stand-in runs (see standins/staticpod.ts).
      else if (f === 'etcd.pid') daemons.push({ file: path.join(rd, f), expect: '/usr/bin/etcd' });
      else daemons.push({ file: path.join(rd, f), expect: 'node' });
    }
  }
  // Daemons first, sshds last, so nothing new gets started from a session meanwhile. Daemons whose
  // starter died before writing a pid file are found by their argv.
  const recorded = daemons.map((d) => ({ pid: readPid(d.file), expect: d.expect }));
  const unrecorded = daemonPids(names.map((n) => runDir(dir, n))).map((pid) => ({ pid, expect: '.js' }));
  stopPids([...recorded, ...unrecorded]);
  for (const d of daemons) fs.rmSync(d.file, { force: true });
  stopPidFiles(sshds);
}
