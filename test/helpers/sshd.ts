// Starts a real OpenSSH sshd on 127.0.0.x for integration tests (must run as root).
// Each call gets its own temp dir, host key, client key, config and port; stop() kills only
// the pid it started (never pkill: a system or CI sshd may be running).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  renameSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './file-roots';

export const TEST_USER = 'khatest';
/** Second login user without any sudo rights, for sudo-failure tests. */
export const NOSUDO_USER = 'khanosudo';

export interface Sshd {
  host: string;
  port: number;
  user: string;
  rootUser: 'root';
  noSudoUser: string;
  keyFile: string;
  knownHostsFile: string;
  dir: string;
  /** sshd's stderr so far (for debugging failed tests). */
  log(): string;
  stop(): Promise<void>;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function userExists(name: string): boolean {
  try {
    sh('id', ['-u', name]);
    return true;
  } catch {
    return false;
  }
}

/** Creates the test users once; '*' password = no password login, but key login allowed with UsePAM no. */
export function ensureUsers(): void {
  for (const name of [TEST_USER, NOSUDO_USER]) {
    if (!userExists(name)) {
      // Another test process may create it at the same moment: only a still-missing user is an error.
      try {
        sh('useradd', ['-m', '-s', '/bin/bash', name]);
      } catch (err) {
        if (!userExists(name)) throw err;
      }
    }
    sh('usermod', ['-p', '*', name]);
  }
  const dropIn = `/etc/sudoers.d/${TEST_USER}`;
  const want = `${TEST_USER} ALL=(ALL) NOPASSWD:ALL\n`;
  if (!existsSync(dropIn) || readFileSync(dropIn, 'utf8') !== want) {
    // Write then rename, so sudo never reads a half-written drop-in.
    const tmp = `${dropIn}.kha-${process.pid}`; // sudo ignores drop-ins whose names contain '.'
    writeFileSync(tmp, want, { mode: 0o440 });
    chmodSync(tmp, 0o440);
    renameSync(tmp, dropIn);
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(host: string, port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${host}:${port}: ${log()}`);
}

// root's ~/.bashrc on this machine runs `pyenv init` (~150 ms per exec). Hide it behind an
// empty file in a private mount namespace of this sshd only; fall back to plain sshd.
function spawnSshd(cfg: string, dir: string, neutraliseRc: boolean): ChildProcess {
  const stdio: ['ignore', 'ignore', 'pipe'] = ['ignore', 'ignore', 'pipe'];
  if (!neutraliseRc || !existsSync('/usr/bin/unshare') || !existsSync('/root/.bashrc')) {
    return spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio });
  }
  const empty = join(dir, 'empty_rc');
  writeFileSync(empty, '', { mode: 0o644 });
  const script = 'mount --bind "$1" /root/.bashrc 2>/dev/null; exec /usr/sbin/sshd -D -e -f "$2"';
  return spawn(
    '/usr/bin/unshare',
    ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', empty, cfg],
    { stdio },
  );
}

export async function startSshd(
  opts: { host?: string; maxSessions?: number; neutraliseRc?: boolean; extraConfig?: string[] } = {},
): Promise<Sshd> {
  if (process.getuid?.() !== 0) throw new Error('startSshd needs root (it creates users and runs sshd)');
  ensureUsers();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const host = opts.host ?? `127.0.0.${10 + Math.floor(Math.random() * 200)}`;
  const port = await freePort(host);
  const dir = mkdtempSync(join(tmpdir(), 'kha-sshd-'));
  chmodSync(dir, 0o755); // sshd reads authorized_keys with the login user's privileges
  const keyFile = join(dir, 'id_ed25519');
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kha-test-client', '-f', keyFile]);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kha-test-host', '-f', hostKey]);
  chmodSync(keyFile, 0o600);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${keyFile}.pub`), { mode: 0o644 });
  const knownHostsFile = join(dir, 'known_hosts');
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  writeFileSync(knownHostsFile, `[${host}]:${port} ${hostPub}\n`);
  const cfg = join(dir, 'sshd_config');
  writeFileSync(
    cfg,
    [
      `ListenAddress ${host}`,
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `MaxSessions ${opts.maxSessions ?? 10}`, // keep the production default to exercise the semaphore
      'MaxStartups 100:30:200',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      // Keywords the lines above do not set, e.g. AllowTcpForwarding no (sshd_config(5): the first value obtained wins).
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );

  let stderr = '';
  const child = spawnSshd(cfg, dir, opts.neutraliseRc ?? true);
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const log = () => stderr;
  // If the test process dies without running stop() (crash, EPIPE), do not leave sshd behind.
  const onExit = () => {
    child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  try {
    await waitForPort(host, port, child, log);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host,
    port,
    user: TEST_USER,
    rootUser: 'root',
    noSudoUser: NOSUDO_USER,
    keyFile,
    knownHostsFile,
    dir,
    log,
    stop: async () => {
      process.removeListener('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
