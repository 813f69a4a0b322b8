// The kubeadm HA procedure ("Creating Highly Available Clusters with kubeadm"), phase by phase, for
// both topologies. Each phase lives in build/phases/ and plans from the facts inspection gathered;
// the shared engine (engine/) runs them: skip with the reason, gate, run, park. The workflow only
// decides; activities act on the hosts.
import { patched } from '@temporalio/workflow';
import type { ClusterSpec } from '../config/types';
import { activitiesFor, type RetryTuning } from './activities';
import { checkBuildInput } from './input-check';
import { PhaseEngine, type RunSummary } from './engine/engine';
import type { Phase } from './engine/phase';
import { BuildCluster } from './build/cluster';
import { runTokens, type TokenTuning } from './build/join-tokens';
import { distributeCerts } from './build/phases/distribute-certs';
import { etcdCluster } from './build/phases/etcd-cluster';
import { init } from './build/phases/init';
import { inspectHosts } from './build/phases/inspect-hosts';
import { installCni } from './build/phases/install-cni';
import { joinControlPlanes } from './build/phases/join-control-planes';
import { joinWorkers } from './build/phases/join-workers';
import { probeLoadBalancer } from './build/phases/probe-load-balancer';
import { removeControlPlanes, removeWorkers } from './build/phases/remove-nodes';
import { verifyNodes } from './build/phases/verify-nodes';
import { WAVE_SIZE, WORKER_WAVES } from './build/waves';
import { type BuildFacts, BuildState, DEFAULT_UPLOADED_CERTS, type UploadedCertsTuning } from './build/state';

export interface HaClusterInput {
  spec: ClusterSpec;
  /** Test and operator overrides: activity retries, join-token lifetime, uploaded-certificate lifetime, workers per wave. */
  tuning?: {
    retry?: RetryTuning;
    token?: TokenTuning;
    uploadedCerts?: UploadedCertsTuning;
    waves?: { size: number };
  };
}
export interface HaClusterResult extends RunSummary {
  nodes: { name: string; ready: boolean; roles: string[] }[];
}

/** The procedure, in the page's order. */
export const buildPhases = (c: BuildCluster): Phase<BuildFacts, BuildState>[] => [
  inspectHosts(c),
  probeLoadBalancer(c),
  ...(c.etcdHosts.length ? [etcdCluster(c)] : []),
  init(c),
  installCni(c),
  // Only files that mark hosts for removal have these phases: the histories of others keep their shape.
  ...(c.removedWorkers.length ? [removeWorkers(c)] : []),
  ...(c.removedControlPlanes.length ? [removeControlPlanes(c)] : []),
  distributeCerts(c),
  joinControlPlanes(c),
  joinWorkers(c),
  verifyNodes(c),
];

export async function haClusterWorkflow(input: HaClusterInput): Promise<HaClusterResult> {
  if (patched('check-input')) checkBuildInput(input);
  const c = new BuildCluster(input.spec);
  const acts = activitiesFor(input.tuning?.retry);
  const tokens = runTokens(acts, c, input.tuning?.token);
  const state = new BuildState(c, acts, tokens, input.tuning?.uploadedCerts ?? DEFAULT_UPLOADED_CERTS, patched);
  const waveSize = input.tuning?.waves?.size ?? WAVE_SIZE;
  // Only a fleet larger than a wave asks the patch: the histories of others keep their shape.
  if (c.spec.workers.length > waveSize && patched(WORKER_WAVES)) {
    const { retry, token } = input.tuning ?? {};
    state.waves = {
      size: waveSize,
      ...(retry || token ? { tuning: { ...(retry ? { retry } : {}), ...(token ? { token } : {}) } } : {}),
    };
  }
  const engine = new PhaseEngine({
    cluster: c.spec.name,
    hosts: c.progressHosts,
    phases: buildPhases(c),
    state,
    approvals: c.gates,
    model: state,
    clusterHost: c.firstCp,
  });
  const r = await engine.run(() => state.facts());
  return { ...engine.summary(r), nodes: state.nodes };
}
