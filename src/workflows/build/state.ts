// The build's typed state: the facts inspection gathered (frozen once it ends, for the phases'
// plans) and what the run itself learns and changes as it goes (node states, the CA hash, the
// uploaded certificates' age), in place of variables shared by closures.
import type { HostFacts } from '../../activities/types';
import type { HostSpec } from '../../config/types';
import type { NodeRow } from '../../kubeadm/kubectl';
import type { ClusterKnowledge, NodeState, UnknownFact } from '../../kubeadm/node-state';
import { ADMIN_CONF } from '../../kubeadm/paths';
import type { HostModel } from '../engine/context';
import type { ResetPlan } from '../engine/steps';
import type { KubeadmHaActivities, RetryTuning } from '../activities';
import type { BuildCluster } from './cluster';
import type { JoinTokens, TokenTuning } from './join-tokens';

/** What the phases' plans read: gathered once by inspection, never changed by a later phase's run. */
export interface BuildFacts {
  /** Each host's state as inspection established it. */
  states: ReadonlyMap<string, NodeState>;
  cluster: ClusterKnowledge;
  /** How the cluster was read (e.g. "through the load balancer"); empty when it was not. */
  via: string;
  /** Workers an operator skipped during inspection. */
  skipped: readonly string[];
  /**
   * Runs from before the `cni-from-ready-node` patch applied the CNI again when any node was
   * NotReady; asked only where those runs asked it (see phases/install-cni.ts).
   */
  cniFromReadyNode(): boolean;
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

export class BuildState implements HostModel {
  /** Each host's facts, as inspection (and an unknown host's retry) read them. */
  readonly hostFacts = new Map<string, HostFacts>();
  cluster: ClusterKnowledge;
  clusterVia = '';
  /** Each node's state now: inspection sets it, each finished step moves it on. */
  readonly states = new Map<string, NodeState>();
  caCertHash = '';
  /** Workflow time of the last upload with our key; unknown (so due) when the init ran in an earlier run. */
  certsUploadedAt: number | undefined;
  nodes: Pick<NodeRow, 'name' | 'ready' | 'roles'>[] = [];
  /** Set for a fleet too large for one history: its workers are inspected and joined in waves (./waves.ts). */
  waves: { size: number; tuning?: { retry?: RetryTuning; token?: TokenTuning } } | undefined;
  private gathered: BuildFacts | undefined;

  constructor(
    readonly c: BuildCluster,
    readonly acts: KubeadmHaActivities,
    readonly tokens: JoinTokens,
    readonly certsTuning: UploadedCertsTuning,
    private readonly patched: (id: string) => boolean,
  ) {
    this.cluster = { unknown: this.noApiServer() };
  }

  noApiServer(): UnknownFact {
    const { firstCp } = this.c;
    return {
      fact: "the cluster's Nodes",
      command: `test -f ${ADMIN_CONF}`,
      exitCode: 1,
      error: `${firstCp.name} has no ${ADMIN_CONF}, so no API server could be asked`,
    };
  }

  /** The facts for the plans: empty until inspection ends (only inspection's own plan reads them before). */
  facts(): BuildFacts {
    return (
      this.gathered ?? { states: new Map(), cluster: this.cluster, via: '', skipped: [], cniFromReadyNode: () => true }
    );
  }

  /** Inspection is over: the plans read these facts from now on. */
  freezeFacts(skipped: readonly string[]): void {
    this.gathered = {
      states: new Map(this.states),
      cluster: this.cluster,
      via: this.clusterVia,
      skipped: [...skipped],
      cniFromReadyNode: () => this.patched(CNI_FROM_READY_NODE),
    };
  }

  roleOf(h: HostSpec) {
    return this.c.roleOf(h);
  }

  halfDone(h: HostSpec): boolean {
    return this.states.get(h.name)?.state === 'half-done';
  }

  finished(h: HostSpec, joined: boolean, detail: string): void {
    this.states.set(h.name, joined ? { state: 'joined', detail } : { state: 'clean' });
  }

  /**
   * A reset of a node that belongs to a live cluster (a registered Node, an etcd member, the first
   * control plane) needs an operator; what an earlier attempt of this same run left does not,
   * except on the first control plane.
   */
  resetPlan(host: HostSpec, step: string): (fromEarlierRun: boolean) => ResetPlan {
    return (fromEarlierRun) => resetPlan(this.c, host, step, fromEarlierRun ? this.states.get(host.name) : undefined);
  }
}

/** Runs from before this patch applied the CNI again when any node was NotReady. */
export const CNI_FROM_READY_NODE = 'cni-from-ready-node';

/** The reset a step on `host` would start with; `earlier`: the node's state when an earlier run left it. */
export function resetPlan(c: BuildCluster, host: HostSpec, step: string, earlier: NodeState | undefined): ResetPlan {
  const half = earlier?.state === 'half-done' ? earlier : undefined;
  const role = c.roleOf(host);
  const removes = half ? half.removes.join(', ') : 'what the failed attempt left';
  const memberToo = role === 'control-plane' && c.stacked && host !== c.firstCp;
  const retryWill = [
    `kubeadm reset -f on ${host.name}, removing ${removes}`,
    ...(memberToo ? [`remove ${host.name}'s etcd member through ${c.firstCp.name}, if it is listed`] : []),
    ...(step === 'joinNode' && role === 'control-plane' && !c.upload
      ? [`copy the shared certificates from ${c.firstCp.name} again`]
      : []),
    `${step} on ${host.name}`,
  ];
  const firstCpLive =
    host === c.firstCp
      ? [`${host.name} is the first control plane: it holds the cluster's CA${c.stacked ? ' and its etcd data' : ''}`]
      : [];
  const live = half?.live ?? firstCpLive;
  return live.length
    ? {
        needsOperator: `${half ? `${host.name} is half-done (${half.detail}) and ` : ''}belongs to a live cluster: ${live.join('; ')}`,
        retryWill,
      }
    : { retryWill };
}
