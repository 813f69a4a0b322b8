// distributeCerts: the procedure's manual certificate copy. The shared CA and service-account keys
// (and admin.conf, as the seed page does) go from the first control plane to a joining one, straight
// to their final paths with root ownership and kubeadm's modes; the copy is then verified by digest.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { sharedControlPlaneFiles } from '../kubeadm/certs';
import { parseKubeVersion } from '../kubeadm/version';
import type { HostInput, StepResult } from './types';
import { withSessions } from './host-context';
import { KUBELET_CONF } from './paths';

export async function distributeCerts({ spec, host }: HostInput): Promise<StepResult> {
  const files = sharedControlPlaneFiles(spec.topology, parseKubeVersion(spec.kubernetesVersion));
  return withSessions(spec, [spec.controlPlanes[0], host], async (source, target) => {
    if ((await target.run(`test -f ${KUBELET_CONF}`)).exitCode === 0) {
      return { alreadyDone: true, detail: 'already joined; certificates left as they are' };
    }
    const digests = new Map<string, string>();
    for (const file of files) {
      target.step(`copying ${file.path}`);
      const content = await source.session.readFile(file.path);
      await target.session.writeFile(file.path, content, { mode: file.mode });
      digests.set(file.path, createHash('sha256').update(content).digest('hex'));
    }
    const r = await target.check(`sha256sum ${files.map((f) => f.path).join(' ')}`, 'checking the copied files');
    for (const line of r.stdout.trim().split('\n')) {
      const [digest, path] = line.trim().split(/\s+/);
      if (digests.get(path) !== digest) {
        throw ApplicationFailure.retryable(`${host.name}: ${path} differs from the copy on ${spec.controlPlanes[0].name} after writing it`, 'CopyMismatch');
      }
    }
    return { alreadyDone: false, detail: `${files.length} shared files copied and verified` };
  });
}
