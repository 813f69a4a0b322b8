// Files copied between hosts inside activities, never through workflow history: staged in a
// root-only folder, then one journaled command installs them at their final paths with root
// ownership and their modes and verifies them by digest, under the host lock, so it never races a
// kubeadm command there.
import { createHash } from 'node:crypto';
import { shellQuote } from '../common/shell-quote';
import { stageDir, stateFile } from '../kubeadm/paths';
import { octal } from '../ssh/shell';
import type { Remote } from './host-context';
import { commandOutcome } from './kubeadm-failure';

export interface FileCopy {
  path: string;
  mode: number;
  content: Buffer;
}

/** Stages the files on `to` and returns the commands that install and verify them. */
export async function stageFiles(to: Remote, stepId: string, files: FileCopy[]): Promise<string[]> {
  const installs: string[] = [];
  for (const [i, file] of files.entries()) {
    to.step(`staging ${file.path}`);
    const staged = `${stageDir(stepId)}/${i}`;
    await to.session.writeFile(staged, file.content, stateFile(0o600));
    const digest = createHash('sha256').update(file.content).digest('hex');
    // A digest reveals nothing of the key; it proves the installed file is the one read from the source.
    installs.push(
      `install -D -m ${octal(file.mode)} -o root -g root ${shellQuote(staged)} ${shellQuote(file.path)} && ` +
        `echo ${shellQuote(`${digest}  ${file.path}`)} | sha256sum -c --quiet`,
    );
  }
  return installs;
}

/** Reads the files from another host, same paths. */
export async function readFrom(
  from: Remote,
  files: ReadonlyArray<{ path: string; mode: number }>,
): Promise<FileCopy[]> {
  const out: FileCopy[] = [];
  for (const f of files) out.push({ path: f.path, mode: f.mode, content: await from.session.readFile(f.path) });
  return out;
}

/** Installs the staged files in one journaled step; `guard` true means the step is already done. */
export async function installFiles(to: Remote, stepId: string, files: FileCopy[], what: string, guard?: string) {
  const installs = await stageFiles(to, stepId, files);
  const o = await to.journaled({
    id: stepId,
    command: ['set -e', ...installs].join('\n'),
    ...(guard ? { guard } : {}),
    removeAfter: [stageDir(stepId)],
  });
  commandOutcome(to.host.name, what, o);
  return o;
}
