// Process helpers. We only ever signal pids we recorded ourselves, and we double-check
// /proc/<pid>/cmdline so a recycled pid never gets killed by mistake.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export function sh(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { input: opts.input, encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
  }
  return r.stdout ?? '';
}

export function exists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function readPid(file: string): number | undefined {
  try {
    const n = parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Alive and not a zombie. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits until a daemon has written its pidfile and that process lives; throws with `failure` otherwise. */
export function waitForPidFile(file: string, failure: string, timeoutMs = 5000): number {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const pid = readPid(file);
    if (alive(pid)) return pid!;
    sleepSync(20);
  }
  throw new Error(failure);
}

/**
 * TERM, wait up to `graceMs`, then KILL. `expect` must occur in the process's cmdline, which
 * protects against pid reuse after a crash.
 */
export function stopPid(pid: number | undefined, expect: string, graceMs = 3000): boolean {
  if (!pid || !alive(pid)) return false;
  if (!cmdline(pid).includes(expect)) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const until = Date.now() + graceMs;
  while (alive(pid) && Date.now() < until) sleepSync(25);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    const until2 = Date.now() + 2000;
    while (alive(pid) && Date.now() < until2) sleepSync(25);
  }
  return true;
}

export function stopPidFile(file: string, expect: string): boolean {
  const stopped = stopPid(readPid(file), expect);
  fs.rmSync(file, { force: true });
  return stopped;
}
