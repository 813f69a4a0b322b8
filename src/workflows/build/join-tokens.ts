// Join material stays fresh across long waits: before each join the workflow checks, on its own
// clock, how long the bootstrap token has left, and has a new one minted when it is too short.
// Only the token's public ID is known here; its secret stays on the first control plane and in
// worker memory. Minted tokens are deleted when their phase is done.
import { log, workflowInfo } from '@temporalio/workflow';
import type { OnHost, TokenRef } from '../../activities/types';
import type { KubeadmHaActivities } from '../activities';
import type { BuildCluster } from './cluster';

export interface TokenTuning {
  /** Lifetime of a minted token. */
  ttlSeconds: number;
  /** A token with less than this left is replaced before a join. */
  minRemainingSeconds: number;
}
export const DEFAULT_TOKEN_TUNING: TokenTuning = { ttlSeconds: 2 * 3600, minRemainingSeconds: 30 * 60 };

export class JoinTokens {
  private current: TokenRef | undefined;
  private minted: string[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly acts: KubeadmHaActivities,
    private readonly at: OnHost,
    private readonly tuning: TokenTuning,
    private readonly description: string,
  ) {}

  /** A token valid for at least minRemainingSeconds; parallel joins share one (calls are serialised). */
  fresh(): Promise<TokenRef> {
    const next = this.queue.then(async () => {
      const left = this.current ? (Date.parse(this.current.expiresAt) - Date.now()) / 1000 : -1;
      if (left >= this.tuning.minRemainingSeconds) return this.current!;
      const t = await this.acts.ensureJoinToken({
        ...this.at,
        ...(this.current ? { current: this.current } : {}),
        ...this.tuning,
        description: this.description,
      });
      if (t.id !== this.current?.id) this.minted.push(t.id);
      this.current = t;
      return t;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Deletes every token minted so far (end of a join phase); their secrets leave the first control
   * plane whatever the outcome. Returns the ids the cluster could not delete: valid until they expire.
   */
  async deleteMinted(): Promise<string[]> {
    if (this.minted.length === 0) return [];
    const ids = this.minted;
    this.minted = [];
    this.current = undefined;
    // Results recorded before leftToExpire existed have no such field.
    const left = (await this.acts.deleteJoinTokens({ ...this.at, ids })).leftToExpire ?? [];
    if (left.length)
      log.warn(
        `bootstrap tokens ${left.join(', ')} could not be deleted from the cluster: they are left to expire (at most ${this.tuning.ttlSeconds} s after they were minted); their secrets were removed`,
      );
    return left;
  }
}

/** This execution's join tokens: minted on the first control plane, described by the workflow id (kubeadm token's --description). */
export function runTokens(
  acts: KubeadmHaActivities,
  c: BuildCluster,
  tuning: TokenTuning = DEFAULT_TOKEN_TUNING,
): JoinTokens {
  return new JoinTokens(acts, c.at(c.firstCp), tuning, `kubeadm-ha ${workflowInfo().workflowId}`);
}
