// A lock around a small file that the processes of one machine append to (known_hosts under
// accept-new): in this process a promise chain per file, across processes an O_EXCL lock file
// `<file>.lock` that holds its owner's token (pid, host name, random).
//
// The owner holds it for a read and an append, so a lock file older than STALE_MS is taken as left
// behind by a dead process. Taking it over never removes a lock another contender has just made:
// takeovers run one at a time under a second O_EXCL file (`<lock>.takeover`); under it the lock must
// still be the very file judged stale (same inode and mtime), is moved aside by rename, and is
// deleted only if what was moved is that file (anything else is put back with link(), which never
// replaces a file). An owner removes its lock only while the lock still holds its own token.
//
// Left open: a stale owner that wakes up and releases in the instant between the takeover's second
// look and its rename, or a crash inside a takeover (its `.takeover` file is itself stale after
// STALE_MS) met by several contenders at once. Both need a process stopped for 30 s mid-lock.
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

export const STALE_MS = 30_000;

export interface LockOptions {
  /** A lock file older than this is taken over (default STALE_MS). */
  staleMs?: number;
  /** Wait between tries while another process holds the lock (default 25 ms). */
  pollMs?: number;
  /** Tries before giving up (default 400: 10 s at 25 ms). */
  maxPolls?: number;
}

const chains = new Map<string, Promise<unknown>>();

/** Runs fn holding `file`.lock: one caller at a time in this process, and across processes. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, o: LockOptions = {}): Promise<T> {
  const prev = chains.get(file) ?? Promise.resolve();
  const run = prev
    .catch(() => undefined)
    .then(async () => {
      const release = await lockFile(`${file}.lock`, o);
      try {
        return await fn();
      } finally {
        await release();
      }
    });
  chains.set(file, run);
  try {
    return await run;
  } finally {
    if (chains.get(file) === run) chains.delete(file);
  }
}

/** Takes the cross-process lock file `lock` (no in-process queue: see withFileLock); resolves to its release. */
export async function lockFile(lock: string, o: LockOptions = {}): Promise<() => Promise<void>> {
  const staleMs = o.staleMs ?? STALE_MS;
  const token = `${process.pid} ${hostname()} ${randomBytes(12).toString('hex')}\n`;
  for (let i = 0; ; i++) {
    if (await createExclusive(lock, token)) return () => removeIfHolds(lock, token);
    const seen = await statOf(lock);
    if (seen && Date.now() - seen.mtimeMs > staleMs && (await takeOver(lock, seen, token, staleMs))) continue;
    if (i >= (o.maxPolls ?? 400))
      throw new Error(`lock ${lock} is held for too long; remove it if no kubeadm-ha worker runs`);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 25));
  }
}

/** Creates `path` with O_EXCL holding `token`; false when it exists. */
async function createExclusive(path: string, token: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(token);
  } catch (err) {
    await unlink(path).catch(() => undefined);
    throw err;
  } finally {
    await fh.close();
  }
  return true;
}

/** Removes `lock` if it is still the stale file `seen`; true when it is gone. One contender at a time. */
async function takeOver(lock: string, seen: Stats, token: string, staleMs: number): Promise<boolean> {
  const guard = `${lock}.takeover`;
  if (!(await createExclusive(guard, token))) {
    // Another contender is taking over; a guard left by one that died is stale in its turn.
    const g = await statOf(guard);
    if (g && Date.now() - g.mtimeMs > staleMs) await removeIfSame(guard, g);
    return false;
  }
  try {
    const now = await statOf(lock);
    if (!now) return true;
    if (!sameFile(now, seen)) return false; // released and made again since: not the stale one
    return await removeIfSame(lock, seen);
  } finally {
    await removeIfHolds(guard, token);
  }
}

/** Moves `path` aside and deletes it if it is the file `seen`; anything else goes back unless a newer one is there. */
async function removeIfSame(path: string, seen: Stats): Promise<boolean> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const moved = await stat(aside);
  if (!sameFile(moved, seen)) await link(aside, path).catch(() => undefined);
  await unlink(aside);
  return sameFile(moved, seen);
}

async function removeIfHolds(path: string, token: string): Promise<void> {
  const held = await readFile(path, 'utf8').catch(() => undefined);
  if (held === token) await unlink(path).catch(() => undefined);
}

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino && a.mtimeMs === b.mtimeMs;

async function statOf(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
