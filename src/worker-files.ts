// The files a run makes the worker read on its own machine (the SSH key and known_hosts, the CNI
// manifest, an existing etcd's client certificate) come from the run's input, which the worker's
// operator did not write. So the worker reads them only from the folders its operator allowed:
// `--file-roots` or KUBEADM_HA_FILE_ROOTS (colon-separated), by default the worker's home folder and
// its working folder, which hold the files of the documented setup (docs/operations.md). The check is
// made on the file actually opened (its /proc/self/fd link), so a symlink, or a folder swapped for
// one after a check, cannot lead out of the roots.
import { realpathSync } from 'node:fs';
import { open, readlink, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve, sep } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { KEY_FILE_ENV } from './codec/keys';

export const FILE_ROOTS_ENV = 'KUBEADM_HA_FILE_ROOTS';
const LOCAL_FILE_REFUSED = 'LocalFileRefused';

export class FileRootsError extends Error {}

/**
 * The roots from a `--file-roots` / KUBEADM_HA_FILE_ROOTS value (colon-separated absolute folders),
 * or the default: the home and working folders. `/` is never a root: it would allow every file.
 */
export function resolveFileRoots(value: string | undefined, cwd = process.cwd(), home = homedir()): string[] {
  const given = value?.trim();
  const candidates = given ? given.split(':').filter(Boolean) : [home, cwd];
  const roots: string[] = [];
  for (const c of candidates) {
    if (given && !isAbsolute(c))
      throw new FileRootsError(`${FILE_ROOTS_ENV}: ${JSON.stringify(c)} is not an absolute path`);
    let real: string;
    try {
      real = realpathSync(c);
    } catch (e) {
      if (!given) continue;
      throw new FileRootsError(`${FILE_ROOTS_ENV}: ${c}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    if (real === sep) {
      if (given)
        throw new FileRootsError(`${FILE_ROOTS_ENV}: / would let a run read every file; name the folders it needs`);
      continue; // a worker started in / (systemd's default) does not open the whole disk
    }
    if (!roots.includes(real)) roots.push(real);
  }
  if (!roots.length) throw new FileRootsError(`no folder for the worker to read files from: set ${FILE_ROOTS_ENV}`);
  return roots;
}

let configured: string[] | undefined;
/** Set by the worker at start (from its flag or the environment); otherwise read from the environment on first use. */
export function setFileRoots(roots: string[]): void {
  configured = roots;
}
export function fileRoots(): string[] {
  configured ??= resolveFileRoots(process.env[FILE_ROOTS_ENV]);
  return configured;
}

const within = (real: string, roots: string[]) => roots.some((r) => real === r || real.startsWith(r + sep));

const refused = (what: string, message: string) =>
  ApplicationFailure.create({ type: LOCAL_FILE_REFUSED, nonRetryable: true, message: `${what}: ${message}` });

/**
 * Reads a file named by a run's input, refusing one outside the roots. `what` names the field
 * (cni.manifest, ssh.privateKeyFile, ...). With `sentWith`, the content goes to a host: then it is
 * never the SSH private key nor a payload key file, which a run's input could otherwise name as a
 * CNI manifest or an etcd certificate to have them sent out. Other errors are the fs error.
 */
export async function readWorkerFile(
  path: string,
  what: string,
  sentWith?: { privateKeyFile: string },
): Promise<Buffer> {
  if (!isAbsolute(path)) throw refused(what, `${path} is not an absolute path`);
  const roots = fileRoots();
  const f = await open(path, 'r');
  try {
    const real = await readlink(`/proc/self/fd/${f.fd}`);
    if (!within(real, roots)) {
      const how = real === resolve(path) ? '' : ` (it leads to ${real})`;
      throw refused(
        what,
        `${path}${how} is outside the folders this worker reads files from (${roots.join(', ')}); its operator can allow more with --file-roots or ${FILE_ROOTS_ENV}`,
      );
    }
    if (sentWith) {
      const secrets: [string | undefined, string][] = [
        [sentWith.privateKeyFile, "the worker's SSH private key"],
        [process.env[KEY_FILE_ENV], 'the payload key file'],
      ];
      for (const [secret, name] of secrets) {
        if (secret && (await realpath(secret).catch(() => secret)) === real)
          throw refused(what, `${path} is ${name}, which is never sent to a host`);
      }
    }
    if (!(await f.stat()).isFile()) throw refused(what, `${path} is not a regular file`);
    return await f.readFile();
  } finally {
    await f.close();
  }
}

/** The folder a file that does not exist yet would be created in (accept-new's known_hosts) must be inside the roots. */
export async function checkWorkerFolder(path: string, what: string): Promise<void> {
  const dir = await realpath(resolve(path, '..'));
  if (!within(dir, fileRoots()))
    throw refused(
      what,
      `${path} would be created in ${dir}, outside the folders this worker reads files from (${fileRoots().join(', ')}); its operator can allow more with --file-roots or ${FILE_ROOTS_ENV}`,
    );
}
