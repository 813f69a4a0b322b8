// Certificate copies between hosts, inside activities and never through workflow history:
// - distributeCerts: the procedure's manual copy of the shared CA and service-account keys (and
//   admin.conf, as the 1.13 HA page does) from the first control plane to a joining one;
// - the external-etcd client files to the first control plane, from an etcd member or from the
//   operator's own files.
// Files are staged in a root-only folder, then one journaled command installs them at their final
// paths with root ownership and their modes and verifies them by digest, under the host lock, so
// it never races a kubeadm command there.
import { readWorkerFile } from '../worker-files';
import { sharedControlPlaneFiles } from '../kubeadm/certs';
import { APISERVER_ETCD_CLIENT_CERT, ETCD_CLIENT_FILES } from '../kubeadm/external-etcd';
import { KUBELET_CONF } from '../kubeadm/paths';
import { parseKubeVersion } from '../kubeadm/version';
import type { Journaled, OnHost, StepResult } from './types';
import { withSessions } from './host-context';
import { installFiles, readFrom } from './file-copy';
import type { Topology } from '../config/enums';
import type { HostSpec } from '../config/types';

export const distributeCerts = async ({
  host,
  ssh,
  stepId,
  source,
  topology,
  kubernetesVersion,
}: OnHost & Journaled & { source: HostSpec; topology: Topology; kubernetesVersion: string }): Promise<StepResult> => {
  const files = sharedControlPlaneFiles(topology, parseKubeVersion(kubernetesVersion));
  return withSessions(ssh, [source, host], async (from, to): Promise<StepResult> => {
    const o = await installFiles(
      to,
      stepId,
      await readFrom(from, files),
      'installing the shared certificates',
      `test -f ${KUBELET_CONF}`,
    );
    return o.state === 'already-done'
      ? { host: host.name, alreadyDone: true, detail: 'already joined; certificates left as they are' }
      : {
          host: host.name,
          alreadyDone: false,
          attached: o.attached,
          detail: `${files.length} shared files copied from ${source.name} and verified`,
        };
  });
};

/** The etcd CA and apiserver-etcd-client pair to the first control plane: from an etcd member, or from the operator's files. */
export const installEtcdClientCerts = async ({
  host,
  ssh,
  stepId,
  from,
}: OnHost &
  Journaled & {
    from: { host: HostSpec } | { caFile: string; certFile: string; keyFile: string };
  }): Promise<StepResult> => {
  const hosts = 'host' in from ? [from.host, host] : [host];
  return withSessions(ssh, hosts, async (...remotes): Promise<StepResult> => {
    const to = remotes[remotes.length - 1];
    const files =
      'host' in from
        ? await readFrom(remotes[0], ETCD_CLIENT_FILES)
        : await Promise.all(
            (['caFile', 'certFile', 'keyFile'] as const).map(async (field, i) => ({
              ...ETCD_CLIENT_FILES[i],
              content: await readWorkerFile(from[field], `etcd.${field}`, ssh),
            })),
          );
    const o = await installFiles(
      to,
      stepId,
      files,
      'installing the etcd client certificates',
      `test -f ${APISERVER_ETCD_CLIENT_CERT} && test -f /etc/kubernetes/admin.conf`,
    );
    return {
      host: host.name,
      alreadyDone: o.state === 'already-done',
      attached: o.attached,
      detail: `etcd CA and apiserver-etcd-client copied from ${'host' in from ? from.host.name : 'the cluster file'}`,
    };
  });
};
