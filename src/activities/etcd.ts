// The external etcd cluster, built on its own hosts as kubeadm's guide "Set up a High Availability
// etcd cluster with kubeadm" does: buildEtcdMember on the first member makes the etcd CA; on the
// others it copies that CA over first (inside this activity, never through history). Then each
// member makes its own certificates and its etcd static pod, journaled, once. checkEtcdCluster
// waits until every member is healthy and listed.
import { ApplicationFailure } from '@temporalio/activity';
import {
  ETCD_CA_CERT,
  ETCD_CA_COMMAND,
  ETCD_CA_KEY,
  ETCD_MANIFEST,
  kubeletEtcdFiles,
  clientURL,
  etcdMemberCommand,
  memberEtcdctl,
  parseEndpointHealth,
  renderEtcdMemberConfig,
} from '../kubeadm/external-etcd';
import { parseMemberList } from '../kubeadm/etcd';
import { STATE_DIR, stageDir, stateFile } from '../kubeadm/paths';
import type { Journaled, OnHost, StepResult } from './types';
import { pollUntil, tail, withSessions } from './host-context';
import { kubeadmOutcome } from './kubeadm-failure';
import { readFrom, stageFiles } from './file-copy';
import type { HostSpec } from '../config/types';

const ETCD_CONFIG = `${STATE_DIR}/etcd-kubeadm-config.yaml`;
const HEALTH_TRIES = 40;

/** One member of an external etcd cluster; `caSource` is the member whose etcd CA it copies (none on the first). */
export const buildEtcdMember = async ({
  host,
  ssh,
  stepId,
  kubernetesVersion,
  members,
  caSource,
  kubeletConfiguration,
}: OnHost &
  Journaled & {
    kubernetesVersion: string;
    members: HostSpec[];
    caSource?: HostSpec;
    kubeletConfiguration?: Record<string, unknown>;
  }): Promise<StepResult> =>
  withSessions(ssh, caSource ? [caSource, host] : [host], async (...remotes): Promise<StepResult> => {
    const node = remotes[remotes.length - 1];
    node.step('writing the kubelet drop-in and the member config');
    for (const f of kubeletEtcdFiles(kubeletConfiguration))
      await node.session.writeFile(f.path, f.content, { mode: 0o644 });
    await node.session.writeFile(
      ETCD_CONFIG,
      renderEtcdMemberConfig(kubernetesVersion, host, members),
      stateFile(0o600),
    );
    const ca = caSource
      ? await stageFiles(
          node,
          stepId,
          await readFrom(remotes[0], [
            { path: ETCD_CA_CERT, mode: 0o644 },
            { path: ETCD_CA_KEY, mode: 0o600 },
          ]),
        )
      : [`test -f ${ETCD_CA_KEY} || ${ETCD_CA_COMMAND}`];
    node.step('kubeadm init phase certs etcd-* and etcd local');
    const o = await node.journaled({
      id: stepId,
      command: ['set -e', ...ca, etcdMemberCommand(ETCD_CONFIG)].join('\n'),
      guard: `test -f ${ETCD_MANIFEST}`,
      removeAfter: [stageDir(stepId)],
    });
    const how = kubeadmOutcome(host.name, 'building the etcd member', o);
    return {
      host: host.name,
      alreadyDone: how === 'already-done',
      attached: o.attached,
      detail:
        how === 'already-done'
          ? 'etcd static pod already there'
          : `etcd member ${clientURL(host.address)}${caSource ? `, CA from ${caSource.name}` : ', etcd CA made here'}`,
    };
  });

/** On an etcd member: waits until every member answers `etcdctl endpoint health` and is started in `member list`. */
export const checkEtcdCluster = async ({ host, ssh, members }: OnHost & { members: HostSpec[] }): Promise<StepResult> =>
  withSessions(ssh, [host], async (remote): Promise<StepResult> => {
    let last = '';
    return pollUntil(
      async () => {
        const health = await remote.run(memberEtcdctl(members, ['endpoint', 'health']));
        const eps = parseEndpointHealth(`${health.stdout}\n${health.stderr}`);
        const sick = members.filter((m) => !eps.some((e) => e.endpoint === clientURL(m.address) && e.healthy));
        const list = await remote.run(memberEtcdctl(members.slice(0, 1), ['member', 'list']));
        const listed = parseMemberList(list.stdout).filter((m) => m.started);
        if (sick.length === 0 && listed.length === members.length) {
          return { host: host.name, alreadyDone: false, detail: `${members.length} etcd members healthy and started` };
        }
        last = sick.length
          ? `unhealthy: ${sick.map((m) => m.name).join(', ')} (${tail(health.stderr || health.stdout, 200)})`
          : `member list shows ${listed.length} started of ${members.length}`;
        remote.step(`waiting for etcd: ${last}`);
        return undefined;
      },
      {
        attempts: HEALTH_TRIES,
        giveUp: () =>
          ApplicationFailure.create({
            message: `${host.name}: the etcd cluster is not healthy: ${last}`,
            type: 'EtcdUnhealthy',
            nonRetryable: true,
          }),
      },
    );
  });
