// The reset's state: what inspection found on each host (the facts the phases plan from, frozen once
// it ends) and the hosts reset so far.
import type { NodeFiles } from '../../kubeadm/node-state';
import { leftovers } from '../../kubeadm/node-state';
import type { HostSpec } from '../../config/types';
import type { KubeadmHaActivities } from '../activities';
import type { BuildCluster } from '../build/cluster';
import type { HostModel } from '../engine/context';
import type { ResetPlan } from '../engine/steps';

export interface ResetFacts {
  /** What kubeadm left on each host, as inspection read it. */
  files: ReadonlyMap<string, NodeFiles>;
}

/** What kubeadm left on a node, in words; empty when it holds nothing of kubeadm's. */
export const kubeadmState = (f: NodeFiles | undefined): string[] =>
  f ? [...(f.adminConf ? ['admin.conf'] : []), ...leftovers(f)] : [];

export class ResetState implements HostModel {
  readonly files = new Map<string, NodeFiles>();
  /** Hosts reset by this run, in order. */
  readonly reset: string[] = [];
  private gathered: ResetFacts | undefined;

  constructor(
    readonly c: BuildCluster,
    readonly acts: KubeadmHaActivities,
  ) {}

  facts(): ResetFacts {
    return this.gathered ?? { files: new Map() };
  }

  freezeFacts(): void {
    this.gathered = { files: new Map(this.files) };
  }

  roleOf(h: HostSpec) {
    return this.c.roleOf(h);
  }

  /** A reset is what heals here: there is nothing half-done to clean first. */
  halfDone(): boolean {
    return false;
  }

  resetPlan(): () => ResetPlan {
    return () => ({ retryWill: ['kubeadm reset -f again'] });
  }

  /** The reset steps record their hosts themselves (`reset`): inspection finishes hosts too. */
  finished(): void {}
}
