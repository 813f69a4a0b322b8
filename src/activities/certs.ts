// distributeCerts: the procedure's manual certificate copy. The shared CA and service-account keys
// (and admin.conf, as the 1.13 HA page does) go from the first control plane to a joining one inside
// this activity, never through workflow history. They are staged in a root-only folder, then one
// journaled command installs them at their final paths with root ownership and kubeadm's modes
// and verifies them by digest, under the host lock, so it never races a kubeadm command there.
import { createHash } from 'node:crypto';
import { sharedControlPlaneFiles } from '../kubeadm/certs';
import { KUBELET_CONF, stageDir, stateFile } from '../kubeadm/paths';
import { parseKubeVersion } from '../kubeadm/version';
import { shellQuote } from '../common/shell-quote';
import { octal } from '../ssh/shell';
import type { KubeadmHaActivities, StepResult } from './types';
import { withSessions } from './host-context';
import { commandOutcome } from './kubeadm-failure';

export const distributeCerts: KubeadmHaActivities['distributeCerts'] = async ({ host, ssh, stepId, source, topology, kubernetesVersion }) => {
  const files = sharedControlPlaneFiles(topology, parseKubeVersion(kubernetesVersion));
  return withSessions(ssh, [source, host], async (from, to): Promise<StepResult> => {
    const stage = stageDir(stepId);
    const installs: string[] = [];
    for (const [i, file] of files.entries()) {
      to.step(`staging ${file.path}`);
      const content = await from.session.readFile(file.path);
      const staged = `${stage}/${i}`;
      await to.session.writeFile(staged, content, stateFile(0o600));
      const digest = createHash('sha256').update(content).digest('hex');
      // A digest reveals nothing of the key; it proves the installed file is the one read from the source.
      installs.push(`install -D -m ${octal(file.mode)} -o root -g root ${shellQuote(staged)} ${shellQuote(file.path)} && ` +
        `echo ${shellQuote(`${digest}  ${file.path}`)} | sha256sum -c --quiet`);
    }
    const o = await to.journaled({
      id: stepId, command: ['set -e', ...installs].join('\n'), guard: `test -f ${KUBELET_CONF}`, removeAfter: [stage],
    });
    commandOutcome(host.name, 'installing the shared certificates', o);
    return o.state === 'already-done'
      ? { host: host.name, alreadyDone: true, detail: 'already joined; certificates left as they are' }
      : { host: host.name, alreadyDone: false, attached: o.attached, detail: `${files.length} shared files copied from ${source.name} and verified` };
  });
};
