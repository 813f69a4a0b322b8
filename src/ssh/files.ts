// readFile / writeFile for HostSession. Content never travels in a command line: it goes over
// SFTP, and a non-root login stages it in a private 0700 dir before `sudo -n install`.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { RemoteFileError, SshError, type HostRef } from './errors';
import { mkdirExact, mkdirp, readAll, realpath, renameOver, rmdir, sftpCode, unlink, writeNew } from './sftp';
import { installCommand, shellQuote } from './shell';
import type { RawRunResult, RunOptions } from './types';

export interface FileHost {
  readonly ref: HostRef;
  readonly isRoot: boolean;
  sftp(): Promise<SFTPWrapper>;
  runRaw(command: string, opts: RunOptions): Promise<RawRunResult>;
}

const READ_CAP = 64 * 1024 * 1024;

function codeFromText(text: string): RemoteFileError['code'] {
  if (/No such file/i.test(text)) return 'ENOENT';
  if (/Permission denied|Operation not permitted/i.test(text)) return 'EACCES';
  return 'EFAIL';
}

/** SFTP failures with a status code are file problems; without one, the connection is gone. */
async function sftpOp<T>(h: FileHost, path: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SshError || err instanceof RemoteFileError) throw err;
    const code = sftpCode(err);
    if (code === undefined)
      throw new SshError('connection-lost', h.ref, `SFTP ${what} failed: ${(err as Error).message}`);
    const kind = code === 2 ? 'ENOENT' : code === 3 ? 'EACCES' : 'EFAIL';
    throw new RemoteFileError(h.ref, path, kind, `SFTP ${what} failed: ${(err as Error).message}`);
  }
}

function firstLine(buf: Buffer): string {
  return buf.toString('utf8').trim().split('\n')[0] ?? '';
}

export async function readFileOp(h: FileHost, path: string, opts: { sudo?: boolean }): Promise<Buffer> {
  if (h.isRoot || opts.sudo === false) {
    const sftp = await h.sftp();
    return sftpOp(h, path, 'read', () => readAll(sftp, path));
  }
  const r = await h.runRaw(`cat -- ${shellQuote(path)}`, { maxBytes: READ_CAP });
  if (r.exitCode !== 0) {
    const msg = firstLine(r.stderr);
    throw new RemoteFileError(h.ref, path, codeFromText(msg), `cannot read (exit ${r.exitCode}): ${msg}`);
  }
  if (r.truncated) throw new RemoteFileError(h.ref, path, 'EFAIL', `file is larger than ${READ_CAP} bytes`);
  return r.stdout;
}

export async function writeFileOp(
  h: FileHost,
  path: string,
  content: string | Buffer,
  opts: { mode: number; owner?: string; group?: string; mkdirMode?: number },
): Promise<void> {
  if (!posix.isAbsolute(path)) throw new RemoteFileError(h.ref, path, 'EFAIL', 'writeFile needs an absolute path');
  const owner = opts.owner ?? 'root';
  const group = opts.group ?? 'root';
  const mkdirMode = opts.mkdirMode ?? 0o755;
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  const suffix = `kha-${randomBytes(6).toString('hex')}`;
  const sftp = await h.sftp();

  if (h.isRoot) {
    // Temp file in the destination dir so the final rename is atomic (same filesystem).
    const dir = posix.dirname(path);
    const tmp = `${dir}/.${posix.basename(path)}.${suffix}.tmp`;
    await sftpOp(h, dir, 'mkdir', () => mkdirp(sftp, dir, mkdirMode));
    await sftpOp(h, tmp, 'write', () => writeNew(sftp, tmp, data, opts.mode));
    try {
      if (owner !== 'root' || group !== 'root') {
        const r = await h.runRaw(`chown -- ${shellQuote(`${owner}:${group}`)} ${shellQuote(tmp)}`, {});
        if (r.exitCode !== 0)
          throw new RemoteFileError(h.ref, path, 'EFAIL', `chown ${owner}:${group} failed: ${firstLine(r.stderr)}`);
      }
      await sftpOp(h, path, 'rename', () => renameOver(sftp, tmp, path));
    } catch (err) {
      await unlink(sftp, tmp).catch(() => undefined);
      throw err;
    }
    return;
  }

  // Not root: stage in a private dir in the login user's home, then install as root.
  const home = await sftpOp(h, '.', 'realpath', () => realpath(sftp, '.'));
  const stageDir = `${home}/.kha-stage-${suffix}`;
  const staged = `${stageDir}/data`;
  await sftpOp(h, stageDir, 'mkdir', () => mkdirExact(sftp, stageDir, 0o700));
  try {
    await sftpOp(h, staged, 'write', () => writeNew(sftp, staged, data, 0o600));
    const r = await h.runRaw(
      installCommand({ src: staged, dest: path, mode: opts.mode, owner, group, mkdirMode, suffix }),
      {},
    );
    if (r.exitCode !== 0) {
      const msg = firstLine(r.stderr);
      throw new RemoteFileError(h.ref, path, codeFromText(msg), `install failed (exit ${r.exitCode}): ${msg}`);
    }
  } finally {
    await unlink(sftp, staged).catch(() => undefined);
    await rmdir(sftp, stageDir).catch(() => undefined);
  }
}
