// The kubeadm HA procedure, phase by phase, as in the kubeadm page, for both topologies: load
// balancer, the external etcd cluster (when kubeadm-ha builds it), first control plane, CNI, shared
// certificates (copied, or uploaded with a certificate key), other control planes, workers. Phases are data:
// facts gathered once from the hosts decide which hosts each phase touches, and a phase with
// nothing to do is skipped with its reason (and its gate is not asked). The workflow only decides;
// activities act on the hosts.
import { ApplicationFailure, CancellationScope, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { HostFacts, Role } from '../activities/types';
import { type ClusterSpec, type GatedPhase, type HostSpec, isBuiltEtcd } from '../config/types';
import type { InitConfigInput } from '../kubeadm/config';
import { clientURL, externalEtcdConfig } from '../kubeadm/external-etcd';
import {
  controlPlaneState, etcdHostState, initState, type ClusterKnowledge, type NodeState, type UnknownFact, workerState,
} from '../kubeadm/node-state';
import { ADMIN_CONF } from '../kubeadm/paths';
import { Decision, Progress, progressQuery } from '../shared/definitions';
import { activitiesFor, type RetryTuning } from './activities';
import { mapWithLimit } from './concurrency';
import { Decisions } from './decisions';
import { DEFAULT_TOKEN_TUNING, JoinTokens, type TokenTuning } from './join-token';
import { RunProgress } from './progress';
import { AbortedByOperator, failureOf, type ResetPlan, SKIPPED, StepRunner } from './steps';

export interface HaClusterInput {
  spec: ClusterSpec;
  /** Test and operator overrides: activity retries, join-token lifetime, uploaded-certificate lifetime. */
  tuning?: { retry?: RetryTuning; token?: TokenTuning; uploadedCerts?: UploadedCertsTuning };
}
export interface HaClusterResult {
  outcome: 'completed' | 'completed-with-skipped' | 'rejected' | 'aborted';
  decisions: Decision[];
  nodes: { name: string; ready: boolean; roles: string[] }[];
  /** Workers the operator skipped. */
  skipped: string[];
  /** Every phase that changes hosts was skipped: the cluster already matched the file. */
  nothingToDo?: boolean;
  rejection?: Decision;
  abort?: Decision;
  progress: Progress;
}

/**
 * kubeadm deletes the uploaded certificates after two hours (cmd/kubeadm/app/phases/copycerts); they
 * are uploaded again before a control-plane join with less than `minRemainingSeconds` left.
 */
export interface UploadedCertsTuning {
  validSeconds: number;
  minRemainingSeconds: number;
}
export const DEFAULT_UPLOADED_CERTS: UploadedCertsTuning = { validSeconds: 2 * 3600, minRemainingSeconds: 30 * 60 };

interface Phase {
  name: string;
  title: string;
  /** Approval this phase waits for, when the cluster file lists it and the phase has work to do. */
  gate?: GatedPhase;
  /** The hosts this phase touches, given the facts; a string is the reason it is skipped. */
  plan(): HostSpec[] | string;
  run(hosts: HostSpec[]): Promise<void>;
}

/** Runs from before this patch reset a node whose facts could not be read; now it parks. */
const UNKNOWN_PARKS = 'unknown-parks';
/** Runs from before this patch applied the CNI again when any node was NotReady. */
const CNI_FROM_READY_NODE = 'cni-from-ready-node';

class RejectedAtGate extends Error {
  constructor(readonly decision: Decision) {
    super(`rejected by ${decision.approver}`);
  }
}

export async function haClusterWorkflow(input: HaClusterInput): Promise<HaClusterResult> {
  const { spec } = input;
  const acts = activitiesFor(input.tuning?.retry);
  const ssh = spec.ssh;
  const stacked = spec.topology === 'stacked';
  // Histories from before the certificate modes have no `certificates`: they copied.
  const upload = spec.certificates === 'upload';
  const etcdHosts = spec.etcd && isBuiltEtcd(spec.etcd) ? spec.etcd.hosts : [];
  const [firstCp, ...otherCps] = spec.controlPlanes;
  const at = (host: HostSpec) => ({ host, ssh });
  const endpoint = `${spec.loadBalancer.host}:${spec.loadBalancer.port}`;
  const roleOf = (h: HostSpec): Role => (spec.controlPlanes.includes(h) ? 'control-plane' : etcdHosts.includes(h) ? 'etcd' : 'worker');
  // Older histories' specs have no kubeadm section; an empty one renders nothing.
  const kubeadmOptions = () => (spec.kubeadm && (spec.kubeadm.ignorePreflightErrors.length > 0 || spec.kubeadm.patches) ? { kubeadm: spec.kubeadm } : {});
  const initConfig = (): InitConfigInput => ({
    kubernetesVersion: spec.kubernetesVersion, nodeName: firstCp.name, advertiseAddress: firstCp.address,
    controlPlaneEndpoint: endpoint, certSANs: [spec.loadBalancer.host], podSubnet: spec.networking.podSubnet,
    ...(spec.networking.serviceSubnet ? { serviceSubnet: spec.networking.serviceSubnet } : {}),
    ...kubeadmOptions(),
    ...(spec.kubeletConfiguration ? { kubeletConfiguration: spec.kubeletConfiguration } : {}),
    ...(spec.kubeProxyConfiguration ? { kubeProxyConfiguration: spec.kubeProxyConfiguration } : {}),
    ...(spec.etcd ? { etcd: externalEtcdConfig(isBuiltEtcd(spec.etcd) ? etcdHosts.map((h) => clientURL(h.address)) : spec.etcd.endpoints) } : {}),
  });
  const certsTuning = input.tuning?.uploadedCerts ?? DEFAULT_UPLOADED_CERTS;
  /** Workflow time of the last upload with our key; unknown (so due) when the init ran in an earlier run. */
  let certsUploadedAt: number | undefined;

  // Facts, gathered once by inspectHosts and kept up to date by the steps of this run.
  const facts = new Map<string, HostFacts>();
  let cluster: ClusterKnowledge = { unknown: noApiServer() };
  let clusterVia = '';
  const states = new Map<string, NodeState>();
  let caCertHash = '';
  let nodes: HaClusterResult['nodes'] = [];
  const skipped: string[] = [];

  const decisions = new Decisions();
  const tokens = new JoinTokens(acts, at(firstCp), input.tuning?.token ?? DEFAULT_TOKEN_TUNING, `kubeadm-ha ${workflowInfo().workflowId}`);
  const notJoined = (hosts: HostSpec[]) => hosts.filter((h) => !skipped.includes(h.name) && states.get(h.name)?.state !== 'joined');
  const initDone = () => states.get(firstCp.name)?.state === 'joined';

  const cleanNode = (host: HostSpec) => async (stepId: string, approvedBy?: string) => {
    const r = await acts.cleanNode({ ...at(host), stepId, role: roleOf(host), stacked, ...(host === firstCp ? {} : { healthy: firstCp }), ...(approvedBy ? { approvedBy } : {}) });
    return r.cleaned ? r.detail : undefined;
  };
  /**
   * A reset of a node that belongs to a live cluster (a registered Node, an etcd member, the first
   * control plane) needs an operator; what an earlier attempt of this same run left does not,
   * except on the first control plane.
   */
  const resetPlan = (host: HostSpec, step: string) => (fromEarlierRun: boolean): ResetPlan => {
    const s = states.get(host.name);
    const half = fromEarlierRun && s?.state === 'half-done' ? s : undefined;
    const removes = half ? half.removes.join(', ') : 'what the failed attempt left';
    const memberToo = roleOf(host) === 'control-plane' && stacked && host !== firstCp;
    const retryWill = [
      `kubeadm reset -f on ${host.name}, removing ${removes}`,
      ...(memberToo ? [`remove ${host.name}'s etcd member through ${firstCp.name}, if it is listed`] : []),
      ...(step === 'joinNode' && roleOf(host) === 'control-plane' && !upload ? [`copy the shared certificates from ${firstCp.name} again`] : []),
      `${step} on ${host.name}`,
    ];
    const live = half?.live ?? (host === firstCp ? [`${host.name} is the first control plane: it holds the cluster's CA${stacked ? ' and its etcd data' : ''}`] : []);
    return live.length ? { needsOperator: `${half ? `${host.name} is half-done (${half.detail}) and ` : ''}belongs to a live cluster: ${live.join('; ')}`, retryWill } : { retryWill };
  };
  const copyCerts = (host: HostSpec, stepId: string) =>
    acts.distributeCerts({ ...at(host), stepId, source: firstCp, topology: spec.topology, kubernetesVersion: spec.kubernetesVersion });
  /** Upload mode: the certificates must outlive the control-plane join about to start. */
  const uploadCertsIfDue = async (stepId: string) => {
    const left = certsUploadedAt === undefined ? 0 : certsUploadedAt + certsTuning.validSeconds * 1000 - Date.now();
    if (left >= certsTuning.minRemainingSeconds * 1000) return;
    await acts.uploadCerts({ ...at(firstCp), stepId: `${stepId}.upload-certs`, config: initConfig() });
    certsUploadedAt = Date.now();
  };
  const join = (host: HostSpec) => async (stepId: string) => {
    const downloadCerts = upload && roleOf(host) === 'control-plane';
    if (downloadCerts) await uploadCertsIfDue(stepId);
    const r = await acts.joinNode({
      ...at(host), stepId, role: roleOf(host), kubernetesVersion: spec.kubernetesVersion, endpoint, caCertHash,
      token: await tokens.fresh(), tokenHost: firstCp, ...(downloadCerts ? { downloadCerts } : {}), ...kubeadmOptions(),
    });
    return r.detail;
  };
  const buildEtcdMember = (host: HostSpec) => async (stepId: string) =>
    (await acts.buildEtcdMember({ ...at(host), stepId, kubernetesVersion: spec.kubernetesVersion, members: etcdHosts,
      ...(spec.kubeletConfiguration ? { kubeletConfiguration: spec.kubeletConfiguration } : {}),
      ...(host === etcdHosts[0] ? {} : { caSource: etcdHosts[0] }) })).detail;

  /** One step per host, at most `limit` at once; a parked host waits while the others go on. */
  const onHosts = async (phase: string, hosts: HostSpec[], limit: number, step: string,
    fn: (h: HostSpec) => (stepId: string) => Promise<string>,
    opts: { clean?: (h: HostSpec) => (id: string, approvedBy?: string) => Promise<string | undefined>; done?: boolean } = {}) => {
    await mapWithLimit(hosts, limit, async (host) => {
      if (runner.abort) return;
      const halfDone = states.get(host.name)?.state === 'half-done';
      progress.setHost(host.name, 'running', halfDone ? `${step}: first cleaning what an earlier attempt left` : step);
      const r = await runner.run({
        phase, step, host, role: roleOf(host), skippable: roleOf(host) === 'worker',
        startWithClean: halfDone, run: fn(host), ...(opts.clean ? { clean: opts.clean(host), resetPlan: resetPlan(host, step) } : {}),
      });
      if (r === SKIPPED) {
        skipped.push(host.name);
        const by = [...decisions.taken].reverse().find((d) => d.host === host.name && d.verdict === 'skip');
        progress.setHost(host.name, 'skipped', `skipped by ${by?.approver}${by?.comment ? `: ${by.comment}` : ''}`);
        progress.hostFinished();
        return;
      }
      states.set(host.name, opts.done ? { state: 'joined', detail: r } : { state: 'clean' });
      progress.setHost(host.name, opts.done ? 'done' : 'running', r);
      progress.hostFinished();
    });
  };
  /** A cluster-level step on the first control plane: it parks like any other, but cannot be skipped. */
  const onFirst = (phase: string, step: string, fn: (stepId: string) => Promise<string>) =>
    runner.run({ phase, step, host: firstCp, role: 'control-plane', skippable: false, run: fn });

  /**
   * The cluster's view, read through the first control plane when it has admin.conf. At inspection
   * it is a step of the first control plane (it parks there if it fails); when an unknown host's
   * retry reads it again, a failure stays that host's own park.
   */
  async function readClusterFacts(asStep = true): Promise<void> {
    if (!facts.get(firstCp.name)?.files.adminConf) {
      cluster = { unknown: noApiServer() };
      return;
    }
    const read = async () => {
      const c = await acts.readCluster({ ...at(firstCp), stacked, controlPlanes: spec.controlPlanes });
      // null: what versions before UnknownFact answered when no API server did.
      cluster = c ?? { unknown: { fact: 'the cluster\'s Nodes', command: 'kubectl get nodes', exitCode: null, error: 'the API server does not answer' } };
      if (c && !('unknown' in c)) {
        caCertHash = c.caCertHash;
        clusterVia = c.via ?? '';
      }
      return 'unknown' in cluster ? `unknown: ${cluster.unknown.error}` : `${cluster.nodes.length} nodes registered (read ${clusterVia || 'through the load balancer'})`;
    };
    if (asStep) await onFirst('inspectHosts', 'readCluster', read);
    else await read();
  }
  function noApiServer(): UnknownFact {
    return { fact: 'the cluster\'s Nodes', command: `test -f ${ADMIN_CONF}`, exitCode: 1, error: `${firstCp.name} has no ${ADMIN_CONF}, so no API server could be asked` };
  }
  function classify(h: HostSpec): NodeState {
    const f = facts.get(h.name);
    if (!f) return { state: 'clean' };
    const role = roleOf(h);
    const s = h === firstCp ? initState(f.files, cluster, h, stacked)
      : role === 'control-plane' ? controlPlaneState(f.files, cluster, h, stacked)
        : role === 'etcd' ? etcdHostState(f.files) : workerState(f.files, cluster, h.name);
    states.set(h.name, s);
    progress.setHost(h.name, s.state === 'joined' ? 'done' : 'pending', s.state === 'clean' ? progress.detailOf(h.name) : `${s.state}: ${s.detail}`);
    return s;
  }
  /** The facts that show hosts are done, for a skipped phase's reason: each one for a few hosts, a count for many. */
  const joinedFacts = (hosts: HostSpec[]): string => {
    const details = hosts.map((h) => { const st = states.get(h.name); return `${h.name}: ${st?.state === 'joined' ? st.detail : st?.state}`; });
    return hosts.length <= 5 ? details.join('; ') : `${hosts.length} hosts, e.g. ${details.slice(0, 2).join('; ')}`;
  };
  const readVia = () => (clusterVia ? ` (read ${clusterVia})` : '');
  const initStateDetail = () => { const st = states.get(firstCp.name); return st?.state === 'joined' ? st.detail : ''; };

  const phases: Phase[] = [
    {
      name: 'inspectHosts', title: 'Check SSH access, sudo, kubeadm and what is already done on every host',
      plan: () => [...spec.controlPlanes, ...etcdHosts, ...spec.workers],
      run: async (hosts) => {
        await onHosts('inspectHosts', hosts, spec.workerConcurrency, 'inspectHost', (host) => async () => {
          const f = await acts.inspectHost({ ...at(host), role: roleOf(host), kubernetesVersion: spec.kubernetesVersion });
          facts.set(host.name, f);
          return `kubeadm ${f.kubeadmVersion}${f.busy ? `, still running ${f.busy}` : ''}`;
        });
        await readClusterFacts();
        for (const h of hosts) classify(h);
        // A node whose state could not be established parks: nothing is reset, initialised or
        // joined on a guess. A retry (after fixing access) reads its facts and the cluster again.
        const unknown = hosts.filter((h) => states.get(h.name)?.state === 'unknown');
        if (unknown.length && patched(UNKNOWN_PARKS)) {
          await mapWithLimit(unknown, unknown.length, async (host) => {
            let tries = 0;
            await runner.run({
              phase: 'inspectHosts', step: 'classifyNode', host, role: roleOf(host), skippable: false, options: ['retry', 'abort'],
              retryWill: [`inspect ${host.name} and read the cluster again (nothing on any host changes), then decide from what they say`],
              run: async () => {
                if (tries++ > 0) {
                  facts.set(host.name, await acts.inspectHost({ ...at(host), role: roleOf(host), kubernetesVersion: spec.kubernetesVersion }));
                  await readClusterFacts(false);
                }
                const state = classify(host);
                if (state.state === 'unknown') throw ApplicationFailure.nonRetryable(`${host.name}: state unknown: ${state.detail}`, 'NodeStateUnknown');
                return state.state;
              },
            });
          });
        }
      },
    },
    {
      name: 'probeLoadBalancer', title: 'Probe the load balancer from the first control plane',
      plan: () => (initDone() ? `${firstCp.name} is already initialised: the cluster's API server answered${readVia()}` : [firstCp]),
      run: async () => {
        await onFirst('probeLoadBalancer', 'probeLoadBalancer', async () => (await acts.probeLoadBalancer({ ...at(firstCp), loadBalancer: spec.loadBalancer })).message);
      },
    },
    ...(etcdHosts.length ? [{
      // kubeadm's "Set up a High Availability etcd cluster with kubeadm": the first member makes the
      // etcd CA, the others copy it, then each makes its certificates and static pod; all healthy before init.
      name: 'etcdCluster', title: `Build the external etcd cluster on ${etcdHosts.map((h) => h.name).join(', ')}`, gate: 'etcd' as const,
      plan: () => (initDone() ? `${firstCp.name} is initialised: the control plane already uses etcd (${joinedFacts(etcdHosts)})` : etcdHosts),
      run: async () => {
        const [first, ...others] = notJoined(etcdHosts).length ? etcdHosts : [];
        if (first && notJoined([first]).length) await onHosts('etcdCluster', [first], 1, 'buildEtcdMember', buildEtcdMember, { clean: cleanNode, done: true });
        const rest = notJoined(others);
        await onHosts('etcdCluster', rest, rest.length, 'buildEtcdMember', buildEtcdMember, { clean: cleanNode, done: true });
        await runner.run({ phase: 'etcdCluster', step: 'checkEtcdCluster', host: etcdHosts[0], role: 'etcd', skippable: false,
          run: async () => (await acts.checkEtcdCluster({ ...at(etcdHosts[0]), members: etcdHosts })).detail });
      },
    } satisfies Phase] : []),
    {
      name: 'init', title: `kubeadm init on ${firstCp.name}`, gate: 'init',
      plan: () => (initDone() ? `${firstCp.name} is already initialised: ${initStateDetail()}${readVia()}` : [firstCp]),
      run: () => onHosts('init', [firstCp], 1, 'kubeadmInit', (host) => async (stepId) => {
        // External etcd: the client certificates first (again after a reset, which removes them).
        if (spec.etcd) {
          await acts.installEtcdClientCerts({ ...at(host), stepId: `${stepId}.etcd-client`,
            from: isBuiltEtcd(spec.etcd) ? { host: etcdHosts[0] } : { caFile: spec.etcd.caFile, certFile: spec.etcd.certFile, keyFile: spec.etcd.keyFile } });
        }
        const r = await acts.kubeadmInit({ ...at(host), stepId, stacked, config: initConfig(), ...(upload ? { uploadCerts: true } : {}) });
        caCertHash = r.caCertHash;
        if (upload && !r.alreadyDone) certsUploadedAt = Date.now();
        return r.detail;
      }, { clean: cleanNode, done: true }),
    },
    {
      name: 'installCni', title: 'Apply the CNI and wait for the kube-system pods',
      plan: () => {
        const nodes = 'unknown' in cluster ? [] : cluster.nodes;
        if (initDone() && nodes.length && nodes.every((n) => n.ready)) return 'the CNI works: every registered node is Ready';
        // A node is Ready only once its network plugin is: one Ready node shows the CNI was applied
        // (a NotReady one has another cause, such as a stopped kubelet, which a new apply does not heal).
        const ready = nodes.filter((n) => n.ready);
        if (initDone() && ready.length && patched(CNI_FROM_READY_NODE)) {
          return `the CNI works: ${ready.length} of ${nodes.length} registered nodes are Ready (NotReady: ${nodes.filter((n) => !n.ready).map((n) => n.name).join(', ')})`;
        }
        return [firstCp];
      },
      run: async () => {
        await onFirst('installCni', 'installCni', async (stepId) => (await acts.installCni({ ...at(firstCp), stepId, manifestFile: spec.cniManifest })).detail);
        await onFirst('installCni', 'waitForSystemPods', async () => (await acts.waitForSystemPods(at(firstCp))).detail);
      },
    },
    {
      name: 'distributeCerts', title: 'Copy the shared certificates to the other control planes', ...(upload ? {} : { gate: 'joinControlPlanes' as const }),
      plan: () => (upload ? 'certificates: upload; the control planes download them with the certificate key'
        : notJoined(otherCps).length ? notJoined(otherCps) : `every other control plane has joined: ${joinedFacts(otherCps)}`),
      run: (hosts) => onHosts('distributeCerts', hosts, hosts.length, 'distributeCerts',
        (host) => async (stepId) => (await copyCerts(host, stepId)).detail, { clean: cleanNode }),
    },
    {
      // One at a time, as the procedure recommends (and requires before kubeadm 1.15). A failed try
      // is cleaned by a reset, which also removes the shared certificates: they are copied again.
      name: 'joinControlPlanes', title: 'Join the other control planes, one at a time', ...(upload ? { gate: 'joinControlPlanes' as const } : {}),
      plan: () => (notJoined(otherCps).length ? notJoined(otherCps) : `every other control plane has joined: ${joinedFacts(otherCps)}`),
      run: async (hosts) => {
        await onHosts('joinControlPlanes', hosts, 1, 'joinNode', join, {
          done: true,
          clean: (host) => async (stepId) => {
            const cleaned = await cleanNode(host)(stepId);
            if (upload) return cleaned;
            const copied = (await copyCerts(host, `${stepId}.certs`)).detail;
            return cleaned ? `${cleaned}; ${copied}` : undefined;
          },
        });
        await tokens.deleteMinted();
      },
    },
    {
      name: 'joinWorkers', title: `Join the workers, at most ${spec.workerConcurrency} at a time`, gate: 'joinWorkers',
      plan: () => (spec.workers.length === 0 ? 'the cluster file lists no workers' : notJoined(spec.workers).length ? notJoined(spec.workers) : `every worker has joined: ${joinedFacts(spec.workers)}`),
      run: async (hosts) => {
        await onHosts('joinWorkers', hosts, spec.workerConcurrency, 'joinNode', join, { done: true, clean: cleanNode });
        await tokens.deleteMinted();
      },
    },
    {
      name: 'verifyNodes', title: 'Verify every node is registered with its role and Ready',
      plan: () => [firstCp],
      run: async () => {
        // etcd hosts run no kubelet that joins the cluster: they are no Nodes.
        const expected = [...spec.controlPlanes, ...spec.workers].filter((h) => !skipped.includes(h.name)).map((h) => ({ name: h.name, role: roleOf(h) }));
        await onFirst('verifyNodes', 'verifyNodes', async () => {
          nodes = (await acts.verifyNodes({ ...at(firstCp), expected })).nodes;
          return `${nodes.length} nodes Ready`;
        });
      },
    },
  ];

  const progress = new RunProgress(spec, phases, decisions);
  const runner = new StepRunner(decisions, progress);
  setHandler(progressQuery, () => progress.view());
  /** Phases that only read (inspection, the final check): a run where only they ran changed nothing. */
  const readOnly = ['inspectHosts', 'verifyNodes'];
  let changingPhasesRan = false;
  const result = (outcome: HaClusterResult['outcome'], extra: Partial<HaClusterResult> = {}): HaClusterResult =>
    ({ outcome, decisions: decisions.taken, nodes, skipped, ...extra, progress: progress.compactView() });

  for (const phase of phases) {
    try {
      const hosts = phase.plan();
      if (typeof hosts === 'string') {
        progress.setPhase(phase.name, 'skipped', hosts);
        continue;
      }
      if (phase.gate && spec.approvals.includes(phase.gate)) {
        const wait = decisions.waitForGate(phase.gate);
        progress.changed();
        const d = await wait;
        if (d.verdict === 'rejected') throw new RejectedAtGate(d);
      }
      progress.setPhase(phase.name, 'running');
      if (!readOnly.includes(phase.name)) changingPhasesRan = true;
      await phase.run(hosts);
      if (runner.abort) throw new AbortedByOperator(runner.abort);
      progress.setPhase(phase.name, 'done');
    } catch (err) {
      if (err instanceof RejectedAtGate) {
        progress.status = 'rejected';
        progress.changed();
        return result('rejected', { rejection: err.decision });
      }
      if (err instanceof AbortedByOperator) {
        progress.status = 'aborted';
        progress.lastError = `${phase.name}: aborted by ${err.decision.approver}${err.decision.comment ? ` (${err.decision.comment})` : ''}; the hosts were left as they are`;
        progress.setPhase(phase.name, 'failed', progress.lastError);
        return result('aborted', { abort: err.decision });
      }
      progress.status = isCancellation(err) ? 'cancelled' : 'failed';
      progress.lastError = `${phase.name}: ${isCancellation(err) ? 'cancelled' : failureOf(err).message}`;
      // The memo must be written even though the run is being cancelled.
      await CancellationScope.nonCancellable(async () => progress.setPhase(phase.name, 'failed'));
      throw err;
    }
  }
  progress.status = skipped.length ? 'completed-with-skipped' : 'completed';
  progress.changed();
  return result(skipped.length ? 'completed-with-skipped' : 'completed', changingPhasesRan ? {} : { nothingToDo: true });
}
