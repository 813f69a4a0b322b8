// Installing an upgrade's kubeadm, kubelet and kubectl on a node, journaled: binaries read from a
// folder on the worker (through its file roots) and checked against dl.k8s.io's .sha256 files, or
// the node's own packages. Not an activity: upgrade.ts's activities call it.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { shellQuote } from '../common/shell-quote';
import {
  aptInstallCommand,
  binaryInFolder,
  binaryPath,
  parseSha256File,
  type UpgradeBinary,
} from '../kubeadm/upgrade-install';
import { readWorkerFile } from '../worker-files';
import { installFiles, type FileCopy } from './file-copy';
import type { Remote } from './host-context';
import { commandOutcome, refuse } from './kubeadm-failure';

/** How the new binaries reach a node: copied from a folder on the worker, or the node's packages. */
export type BinarySource = { binaries: string } | { packages: 'apt' };

export /** Installs `names` at `version` on the node, journaled; done already when the installed files are those. */
async function install(
  node: Remote,
  id: string,
  names: UpgradeBinary[],
  version: string,
  source: BinarySource,
  privateKeyFile: string,
): Promise<void> {
  const what = `installing ${names.join(', ')} ${version}`;
  node.step(what);
  if ('packages' in source) {
    const o = await node.journaled({ id, command: aptInstallCommand(names, version) });
    commandOutcome(node.host.name, what, o);
    return;
  }
  const files: FileCopy[] = [];
  for (const name of names) {
    const file = binaryInFolder(source.binaries, version, name);
    let content: Buffer;
    let expected: string;
    try {
      content = await readWorkerFile(file, 'upgrade.binaries', { privateKeyFile });
      expected = parseSha256File(
        (await readWorkerFile(`${file}.sha256`, 'upgrade.binaries')).toString('utf8'),
        `${file}.sha256`,
      );
    } catch (e) {
      if (e instanceof ApplicationFailure) throw e;
      throw refuse(
        'UpgradeSourceMissing',
        `upgrade.binaries: cannot read ${file} or ${file}.sha256 on the worker: ${(e as Error).message}; put ${name} ${version} and its .sha256 there, then retry`,
      );
    }
    const digest = createHash('sha256').update(content).digest('hex');
    if (digest !== expected)
      throw refuse(
        'UpgradeSourceMissing',
        `upgrade.binaries: ${file} has SHA-256 ${digest}, but ${file}.sha256 says ${expected}; refusing to install it`,
      );
    files.push({ path: binaryPath(name), mode: 0o755, content });
  }
  const guard = files
    .map(
      (f) =>
        `echo ${shellQuote(`${createHash('sha256').update(f.content).digest('hex')}  ${f.path}`)} | sha256sum -c --quiet 2>/dev/null`,
    )
    .join(' && ');
  // Installed already (a retry, a new run): no upload of some hundred megabytes only for the journal's guard to skip it.
  if ((await node.run(guard)).exitCode === 0) return;
  await installFiles(node, id, files, what, guard);
}
