// The first control plane: kubeadm init with a rendered kubeadm-config.yaml, then the CNI, then
// wait until the kube-system pods run ("watch the pods of the components get started").
import { ApplicationFailure } from '@temporalio/activity';
import { caCertHashCommand, parseCaCertHash } from '../kubeadm/certs';
import { renderInitConfig } from '../kubeadm/config';
import { guardedInitCommand, SECOND_CLUSTER_EXIT } from '../kubeadm/init-command';
import { parseKubeVersion, uploadCertsFlag } from '../kubeadm/version';
import { ensureCertificateKey, removeCertificateKeyFile } from './certificate-key';
import { parseGetNodes, parseGetPods } from '../kubeadm/kubectl';
import { isControlPlaneRow } from '../kubeadm/node-state';
import { ADMIN_CONF, CERTIFICATE_KEY_FILE, CNI_MANIFEST, INIT_CONFIG, KUBECTL, stateFile } from '../kubeadm/paths';
import type { JournaledStep } from '../ssh/journal';
import type { InitResult, Journaled, OnHost, StepResult } from './types';
import { withSessions, pollUntil, Remote, tail } from './host-context';
import { commandOutcome, kubeadmOutcome } from './kubeadm-failure';
import type { InitConfigInput } from '../kubeadm/config';
import { readWorkerFile } from '../worker-files';

const API_WAIT_TRIES = 30;

/**
 * `uploadCerts`: `kubeadm init --upload-certs` with a certificate key kubeadm-ha makes and keeps on the host.
 * kubeadm-config.yaml is put in place by the journal, under the host lock, by the attempt that starts
 * the init: an earlier attempt still running never changes what kubeadm reads.
 */
export const kubeadmInit = async ({
  host,
  ssh,
  stepId,
  config,
  uploadCerts,
}: OnHost & Journaled & { config: InitConfigInput; stacked: boolean; uploadCerts?: boolean }): Promise<InitResult> =>
  withSessions(ssh, [host], async (remote): Promise<InitResult> => {
    // With upload, the certificate key goes into the 0600 config: kubeadm reads it there, never from argv.
    if (uploadCerts) remote.step('certificate key (under the host lock)');
    const certificateKey = uploadCerts ? await ensureCertificateKey(remote.session) : undefined;
    const flags = uploadCerts ? ` ${uploadCertsFlag(parseKubeVersion(config.kubernetesVersion))}` : '';
    // Guarded: admin.conf means an init already ran here (perhaps from an earlier run), so it never runs twice.
    const o = await remote.journaled({
      id: stepId,
      command: guardedInitCommand(`kubeadm init --config ${INIT_CONFIG}${flags}`),
      guard: `test -f ${ADMIN_CONF}`,
      ...initConfigInput(config, certificateKey),
    });
    if (o.state === 'finished' && o.exitCode === SECOND_CLUSTER_EXIT) {
      throw ApplicationFailure.create({
        message: `${host.name}: ${tail(o.output, 300)}; reset it only if its cluster is gone`,
        type: 'SecondClusterRefused',
        nonRetryable: true,
      });
    }
    const how = kubeadmOutcome(host.name, 'kubeadm init', o);
    const caCertHash = await confirmInitialised(remote);
    return {
      host: host.name,
      alreadyDone: how === 'already-done',
      attached: o.attached,
      caCertHash,
      detail:
        how === 'already-done'
          ? 'already initialised'
          : `initialised${o.attached ? ' (waited for the running init)' : ''}, endpoint ${config.controlPlaneEndpoint}`,
    };
  });

/**
 * `kubeadm init phase upload-certs`: uploads the shared certificates again, encrypted with the key
 * kept on the host (a new one when it has none), for another two hours (the kubeadm-certs Secret's
 * lifetime, cmd/kubeadm/app/phases/copycerts).
 */
export const uploadCerts = async ({
  host,
  ssh,
  stepId,
  config,
}: OnHost & Journaled & { config: InitConfigInput }): Promise<StepResult> =>
  withSessions(ssh, [host], async (remote): Promise<StepResult> => {
    remote.step('certificate key (under the host lock)');
    const certificateKey = await ensureCertificateKey(remote.session);
    const flag = uploadCertsFlag(parseKubeVersion(config.kubernetesVersion));
    const o = await remote.journaled({
      id: stepId,
      command: `kubeadm init phase upload-certs ${flag} --config ${INIT_CONFIG}`,
      ...initConfigInput(config, certificateKey),
    });
    commandOutcome(host.name, 'kubeadm init phase upload-certs', o);
    return {
      host: host.name,
      alreadyDone: false,
      attached: o.attached,
      detail: 'certificates uploaded to Secret kubeadm-certs for two hours',
    };
  });

/**
 * Upload mode, once the control planes have joined: the certificate key leaves the first control
 * plane (the kubeadm-certs Secret it decrypts expires within two hours by itself). A later upload,
 * in this run or another, makes a new one.
 */
export const removeCertificateKey = async ({ host, ssh }: OnHost): Promise<StepResult> =>
  withSessions(ssh, [host], async (remote): Promise<StepResult> => {
    remote.step(`removing ${CERTIFICATE_KEY_FILE}`);
    const removed = await removeCertificateKeyFile(remote.session);
    return {
      host: host.name,
      alreadyDone: !removed,
      detail: removed ? `removed the certificate key (${CERTIFICATE_KEY_FILE})` : 'no certificate key was kept',
    };
  });

/**
 * kubeadm-config.yaml as the journal's input: put in place by the attempt that starts the step, under
 * the host lock. With the certificate key in it, it is removed when the command ends; the key itself
 * is kept in CERTIFICATE_KEY_FILE until the control planes have joined.
 */
function initConfigInput(
  config: InitConfigInput,
  certificateKey: string | undefined,
): Pick<JournaledStep, 'input' | 'removeAfter'> {
  return {
    input: {
      path: INIT_CONFIG,
      content: renderInitConfig({ ...config, ...(certificateKey ? { certificateKey } : {}) }),
    },
    ...(certificateKey ? { removeAfter: [INIT_CONFIG] } : {}),
  };
}

/** Done in the cluster: the API server answers through admin.conf and this node is a control plane. */
async function confirmInitialised(remote: Remote): Promise<string> {
  let last = '';
  const rows = await pollUntil(
    async () => {
      const r = await remote.run(`${KUBECTL} get nodes`);
      if (r.exitCode === 0) return parseGetNodes(r.stdout);
      last = r.stderr;
      remote.step('waiting for the API server');
      return undefined;
    },
    {
      attempts: API_WAIT_TRIES,
      giveUp: () =>
        ApplicationFailure.create({
          message: `${remote.host.name}: ${ADMIN_CONF} exists but the API server does not answer (${tail(last, 300)})`,
          type: 'HalfDone',
          nonRetryable: true,
        }),
    },
  );
  const me = rows.find((n) => n.name === remote.host.name);
  if (!me || !isControlPlaneRow(me)) {
    throw ApplicationFailure.create({
      message: `${remote.host.name}: the API server answers but Node ${remote.host.name} is ${me ? 'not marked control-plane' : 'not registered'}`,
      type: 'HalfDone',
      nonRetryable: true,
    });
  }
  return parseCaCertHash((await remote.check(caCertHashCommand(), 'computing the CA certificate hash')).stdout);
}

export const installCni = async ({
  host,
  ssh,
  stepId,
  manifestFile,
}: OnHost & Journaled & { manifestFile: string }): Promise<StepResult> => {
  const manifest = await readWorkerFile(manifestFile, 'cni.manifest', ssh);
  return withSessions(ssh, [host], async (remote): Promise<StepResult> => {
    await remote.session.writeFile(CNI_MANIFEST, manifest, stateFile(0o644));
    const o = await remote.journaled({ id: stepId, command: `${KUBECTL} apply -f ${CNI_MANIFEST}` });
    commandOutcome(host.name, 'kubectl apply of the CNI manifest', o);
    return {
      host: host.name,
      alreadyDone: false,
      attached: o.attached,
      detail: o.output.trim().split('\n').slice(-3).join(', '),
    };
  });
};

export const waitForSystemPods = async ({ host, ssh }: OnHost): Promise<StepResult> =>
  withSessions(ssh, [host], (remote) =>
    pollUntil(async (): Promise<StepResult | undefined> => {
      const r = await remote.check(`${KUBECTL} get pods -n kube-system`, 'kubectl get pods -n kube-system');
      const pods = parseGetPods(r.stdout);
      const waiting = pods.filter((p) => p.status !== 'Running');
      if (pods.length > 0 && waiting.length === 0)
        return { host: host.name, alreadyDone: false, detail: `${pods.length} kube-system pods Running` };
      remote.step(`waiting for ${waiting.map((p) => `${p.name} (${p.status})`).join(', ') || 'kube-system pods'}`);
      return undefined;
    }),
  );
