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

/** Live processes whose cmdline (NULs as spaces) satisfies `match`: one pass over /proc. */
export function pidsByCmdline(match: (cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid !== process.pid && match(cmdline(pid)) && alive(pid)) pids.push(pid);
  }
  return pids;
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
 * TERM, wait up to `graceMs`, then KILL — for all at once, so stopping a 500-host fleet takes about
 * one grace period rather than 500. `expect` must occur in the process's cmdline, which protects
 * against pid reuse after a crash. Returns the pids that were signalled.
 */
export function stopPids(targets: Array<{ pid: number | undefined; expect: string }>, graceMs = 3000): number[] {
  const signalled: number[] = [];
  for (const { pid, expect } of targets) {
    if (!pid || !alive(pid) || !cmdline(pid).includes(expect)) continue;
    try {
      process.kill(pid, 'SIGTERM');
      signalled.push(pid);
    } catch {
      /* already gone */
    }
  }
  const waitGone = (ms: number): void => {
    const until = Date.now() + ms;
    while (signalled.some(alive) && Date.now() < until) sleepSync(25);
  };
  waitGone(graceMs);
  for (const pid of signalled.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  waitGone(2000);
  return signalled;
}

export function stopPidFiles(files: Array<{ file: string; expect: string }>): number[] {
  const stopped = stopPids(files.map((f) => ({ pid: readPid(f.file), expect: f.expect })));
  for (const f of files) fs.rmSync(f.file, { force: true });
  return stopped;
}

export function stopPidFile(file: string, expect: string): boolean {
  return stopPidFiles([{ file, expect }]).length > 0;
}
