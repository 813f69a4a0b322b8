// Promise helpers over ssh2's SFTP. Modes are always set with an explicit (f)chmod because the
// server applies its umask on open/mkdir, and ssh2's stream defaults (0666) are unsafe.
import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';

type Cb<T> = (err: Error | undefined | null, v: T) => void;
function call<T>(fn: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** SFTP status code of an error (2 = no such file, 3 = permission denied, 4 = failure). */
export function sftpCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'number' ? c : undefined;
}

async function exists(sftp: SFTPWrapper, p: string): Promise<boolean> {
  try {
    await call((cb) => sftp.stat(p, cb));
    return true;
  } catch (e) {
    if (sftpCode(e) === 2) return false;
    throw e;
  }
}

/** mkdir -p; directories it creates get exactly `mode`. */
export async function mkdirp(sftp: SFTPWrapper, dir: string, mode: number): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; d !== '/' && d !== '.' && !(await exists(sftp, d)); d = posix.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      await call<void>((cb) => sftp.mkdir(d, { mode }, cb as never));
    } catch (e) {
      if (!(await exists(sftp, d))) throw e; // lost a race with a concurrent mkdir: fine
      continue;
    }
    await call<void>((cb) => sftp.chmod(d, mode, cb as never));
  }
}

/** Creates `path` exclusively ('wx'), writes `data`, then sets exactly `mode`. */
export async function writeNew(sftp: SFTPWrapper, path: string, data: Buffer, mode: number): Promise<void> {
  const handle = await call<Buffer>((cb) => sftp.open(path, 'wx', { mode: 0o600 }, cb));
  try {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, 256 * 1024);
      await call<void>((cb) => sftp.write(handle, data, off, n, off, cb as never));
      off += n;
    }
    await call<void>((cb) => sftp.fchmod(handle, mode, cb as never));
  } finally {
    await call<void>((cb) => sftp.close(handle, cb as never)).catch(() => undefined);
  }
}

/** POSIX rename-over (posix-rename@openssh.com): plain SFTP rename refuses an existing target. */
export function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  return call<void>((cb) => sftp.ext_openssh_rename(from, to, cb as never));
}

export function unlink(sftp: SFTPWrapper, p: string): Promise<void> {
  return call<void>((cb) => sftp.unlink(p, cb as never));
}

export function rmdir(sftp: SFTPWrapper, p: string): Promise<void> {
  return call<void>((cb) => sftp.rmdir(p, cb as never));
}

export function readAll(sftp: SFTPWrapper, p: string): Promise<Buffer> {
  return call<Buffer>((cb) => sftp.readFile(p, cb as never));
}

export function realpath(sftp: SFTPWrapper, p: string): Promise<string> {
  return call<string>((cb) => sftp.realpath(p, cb));
}

export function mkdirExact(sftp: SFTPWrapper, p: string, mode: number): Promise<void> {
  return call<void>((cb) => sftp.mkdir(p, { mode }, cb as never)).then(() =>
    call<void>((cb) => sftp.chmod(p, mode, cb as never)),
  );
}
