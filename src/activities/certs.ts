// Certificate copies between hosts, inside activities and never through workflow history:
// - distributeCerts: the procedure's manual copy of the shared CA and service-account keys (and
//   admin.conf, as the 1.13 HA page does) from the first control plane to a joining one;
// - the external-etcd client files to the first control plane, from an etcd member or from the
//   operator's own files.
// Files are staged in a root-only folder, then one journaled command installs them at their final
// paths with root ownership and their modes and verifies them by digest, under the host lock, so
// it never races a kubeadm command there.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sharedControlPlaneFiles } from '../kubeadm/certs';
import { APISERVER_ETCD_CLIENT_CERT, ETCD_CLIENT_FILES } from '../kubeadm/external-etcd';
import { KUBELET_CONF, stageDir, stateFile } from '../kubeadm/paths';
import { parseKubeVersion } from '../kubeadm/version';
import { shellQuote } from '../common/shell-quote';
import { octal } from '../ssh/shell';
import type { KubeadmHaActivities, StepResult } from './types';
import { type Remote, withSessions } from './host-context';
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
    installs.push(`install -D -m ${octal(file.mode)} -o root -g root ${shellQuote(staged)} ${shellQuote(file.path)} && ` +
      `echo ${shellQuote(`${digest}  ${file.path}`)} | sha256sum -c --quiet`);
  }
  return installs;
}

/** Reads the files from another host, same paths. */
export async function readFrom(from: Remote, files: ReadonlyArray<{ path: string; mode: number }>): Promise<FileCopy[]> {
  const out: FileCopy[] = [];
  for (const f of files) out.push({ path: f.path, mode: f.mode, content: await from.session.readFile(f.path) });
  return out;
}

/** Installs the staged files in one journaled step; `guard` true means the step is already done. */
export async function installFiles(to: Remote, stepId: string, files: FileCopy[], what: string, guard?: string) {
  const installs = await stageFiles(to, stepId, files);
  const o = await to.journaled({ id: stepId, command: ['set -e', ...installs].join('\n'), ...(guard ? { guard } : {}), removeAfter: [stageDir(stepId)] });
  commandOutcome(to.host.name, what, o);
  return o;
}

export const distributeCerts: KubeadmHaActivities['distributeCerts'] = async ({ host, ssh, stepId, source, topology, kubernetesVersion }) => {
  const files = sharedControlPlaneFiles(topology, parseKubeVersion(kubernetesVersion));
  return withSessions(ssh, [source, host], async (from, to): Promise<StepResult> => {
    const o = await installFiles(to, stepId, await readFrom(from, files), 'installing the shared certificates', `test -f ${KUBELET_CONF}`);
    return o.state === 'already-done'
      ? { host: host.name, alreadyDone: true, detail: 'already joined; certificates left as they are' }
      : { host: host.name, alreadyDone: false, attached: o.attached, detail: `${files.length} shared files copied from ${source.name} and verified` };
  });
};

export const installEtcdClientCerts: KubeadmHaActivities['installEtcdClientCerts'] = async ({ host, ssh, stepId, from }) => {
  const hosts = 'host' in from ? [from.host, host] : [host];
  return withSessions(ssh, hosts, async (...remotes): Promise<StepResult> => {
    const to = remotes[remotes.length - 1];
    const files = 'host' in from
      ? await readFrom(remotes[0], ETCD_CLIENT_FILES)
      : await Promise.all([from.caFile, from.certFile, from.keyFile].map(async (local, i) => ({ ...ETCD_CLIENT_FILES[i], content: await readFile(local) })));
    const o = await installFiles(to, stepId, files, 'installing the etcd client certificates', `test -f ${APISERVER_ETCD_CLIENT_CERT} && test -f /etc/kubernetes/admin.conf`);
    return { host: host.name, alreadyDone: o.state === 'already-done', attached: o.attached,
      detail: `etcd CA and apiserver-etcd-client copied from ${'host' in from ? from.host.name : 'the cluster file'}` };
  });
};
