// Stand-in daemons (kube-apiserver "static pods", kubelet) run detached from the SSH session,
// inside the host's mount namespace, with pid files in the host's run dir so reset and
// `fleet down` can stop them. Each daemon's argv names its host's run dir, so it is found (as
// systemd finds a unit's processes by cgroup) even when its starter was killed before writing the
// pid file.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { logDir, runDir } from '../layout';
import { alive, pidsByCmdline, readPid, sleepSync, stopPidFile, stopPids } from '../proc';
import { hostEnv } from './env';

export type DaemonKind = 'apiserver' | 'kubelet';

export function pidFile(kind: DaemonKind): string {
  const e = hostEnv();
  return path.join(runDir(e.dir, e.host), `${kind}.pid`);
}

export function daemonRunning(kind: DaemonKind): boolean {
  return alive(readPid(pidFile(kind)));
}

export function startDaemon(kind: DaemonKind): number {
  const e = hostEnv();
  if (daemonRunning(kind)) return readPid(pidFile(kind))!;
  fs.mkdirSync(logDir(e.dir, e.host), { recursive: true });
  const log = fs.openSync(path.join(logDir(e.dir, e.host), `${kind}.log`), 'a');
  // detached => setsid: the daemon outlives the SSH session and is not in its process group.
  const child = spawn(process.execPath, [path.join(__dirname, `${kind}.js`), daemonMarker(runDir(e.dir, e.host))], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
    cwd: '/',
  });
  fs.closeSync(log);
  child.unref();
  fs.writeFileSync(pidFile(kind), String(child.pid));
  return child.pid!;
}

/** The argv word that ties a daemon to its host. */
export function daemonMarker(hostRunDir: string): string {
  return `--run-dir=${hostRunDir}`;
}

/** Every daemon of these hosts (any kind unless given), with or without a pid file. */
export function daemonPids(hostRunDirs: string[], kind?: DaemonKind): number[] {
  const markers = hostRunDirs.map((d) => ` ${daemonMarker(d)} `);
  const script = kind ? `/${kind}.js ` : '.js ';
  return pidsByCmdline((c) => c.includes(script) && markers.some((m) => c.includes(m)));
}

export function stopDaemon(kind: DaemonKind): void {
  const e = hostEnv();
  const pids = new Set([readPid(pidFile(kind)), ...daemonPids([runDir(e.dir, e.host)], kind)]);
  stopPids([...pids].map((pid) => ({ pid, expect: `/${kind}.js` })));
  fs.rmSync(pidFile(kind), { force: true });
  // Give the kernel a moment to release the listening sockets.
  sleepSync(20);
}

/** The real etcd an etcd host's kubelet stand-in started (staticpod.ts). */
export function stopEtcdPod(): void {
  const e = hostEnv();
  stopPidFile(path.join(runDir(e.dir, e.host), 'etcd.pid'), '/usr/bin/etcd');
}
