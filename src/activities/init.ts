// The first control plane: kubeadm init with a rendered kubeadm-config.yaml, then the CNI,
// then wait until the kube-system pods run ("watch the pods of the components get started").
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { caCertHashCommand, parseCaCertHash } from '../kubeadm/certs';
import { renderInitConfig } from '../kubeadm/config';
import { alreadyDoneBy } from '../kubeadm/failures';
import { parseJoinCommands } from '../kubeadm/join-command';
import { parseGetPods } from '../kubeadm/kubectl';
import type { ClusterInput, InitResult, StepResult } from './types';
import { withSessions, pollUntil, Remote, tail } from './host-context';
import { kubeadmFailure } from './kubeadm-failure';
import { ADMIN_CONF, CNI_MANIFEST, INIT_CONFIG, KUBECTL, stateFile } from './paths';

const API_WAIT_TRIES = 30;

export async function kubeadmInit({ spec }: ClusterInput): Promise<InitResult> {
  const cp = spec.controlPlanes[0];
  const endpoint = `${spec.loadBalancer.host}:${spec.loadBalancer.port}`;
  return withSessions(spec, [cp], async (remote) => {
    // A retry after a lost worker must never run kubeadm init twice: admin.conf means it ran.
    if ((await remote.run(`test -f ${ADMIN_CONF}`)).exitCode === 0) {
      return { alreadyDone: true, endpoint, caCertHash: await waitForApiAndHash(remote) };
    }
    remote.step('writing kubeadm-config.yaml');
    await remote.session.writeFile(INIT_CONFIG, renderInitConfig({
      kubernetesVersion: spec.kubernetesVersion, nodeName: cp.name, advertiseAddress: cp.address,
      controlPlaneEndpoint: endpoint, certSANs: [spec.loadBalancer.host], podSubnet: spec.networking.podSubnet,
      ...(spec.networking.serviceSubnet ? { serviceSubnet: spec.networking.serviceSubnet } : {}),
    }), stateFile(0o600));
    const r = await remote.run(`kubeadm init --config ${INIT_CONFIG}`);
    if (r.exitCode !== 0) {
      const { failure, error } = kubeadmFailure(cp.name, 'kubeadm init', r);
      // An earlier attempt's init may still have been running when its worker died.
      if (alreadyDoneBy(failure)) return { alreadyDone: true, endpoint, caCertHash: await waitForApiAndHash(remote) };
      throw error;
    }
    const join = parseJoinCommands(r.stdout)[0];
    if (!join) throw ApplicationFailure.nonRetryable(`${cp.name}: kubeadm init succeeded but printed no join command: ${tail(r.stdout)}`, 'KubeadmFailed');
    if (join.endpoint !== endpoint) {
      throw ApplicationFailure.nonRetryable(`${cp.name}: kubeadm init used endpoint ${join.endpoint}, expected the load balancer ${endpoint}`, 'KubeadmConfigInvalid');
    }
    return { alreadyDone: false, endpoint, caCertHash: join.caCertHashes[0] };
  });
}

async function waitForApiAndHash(remote: Remote): Promise<string> {
  let last = '';
  await pollUntil(async () => {
    const r = await remote.run(`${KUBECTL} get nodes`);
    if (r.exitCode === 0) return true;
    last = r.stderr;
    remote.step('waiting for the API server');
    return undefined;
  }, {
    attempts: API_WAIT_TRIES,
    giveUp: () => ApplicationFailure.nonRetryable(`${remote.host.name}: ${ADMIN_CONF} exists but the API server does not answer (${tail(last, 300)}); ` +
      'check the node, or run `kubeadm reset -f` on it to start over', 'HostNotReady'),
  });
  const hash = await remote.check(caCertHashCommand(), 'computing the CA certificate hash');
  return parseCaCertHash(hash.stdout);
}

export async function installCni({ spec }: ClusterInput): Promise<StepResult> {
  const manifest = await readFile(spec.cniManifest);
  return withSessions(spec, [spec.controlPlanes[0]], async (remote) => {
    await remote.session.writeFile(CNI_MANIFEST, manifest, stateFile(0o644));
    const r = await remote.check(`${KUBECTL} apply -f ${CNI_MANIFEST}`, 'kubectl apply of the CNI manifest');
    return { alreadyDone: false, detail: r.stdout.trim().split('\n').join(', ') };
  });
}

export async function waitForSystemPods({ spec }: ClusterInput): Promise<StepResult> {
  return withSessions(spec, [spec.controlPlanes[0]], (remote) => pollUntil(async () => {
    const r = await remote.check(`${KUBECTL} get pods -n kube-system`, 'kubectl get pods -n kube-system');
    const pods = parseGetPods(r.stdout);
    const waiting = pods.filter((p) => p.status !== 'Running');
    if (pods.length > 0 && waiting.length === 0) return { alreadyDone: false, detail: `${pods.length} kube-system pods Running` };
    remote.step(`waiting for ${waiting.map((p) => `${p.name} (${p.status})`).join(', ') || 'kube-system pods'}`);
    return undefined;
  }));
}
