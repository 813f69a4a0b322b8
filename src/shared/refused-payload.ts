// With a payload key configured, the key is the capability to steer the worker: a payload that is
// not encrypted with one of its keys (anyone who reaches the Temporal frontend can send one) is
// never read as input. The worker's codec cannot fail such a payload: a decode error fails the
// workflow task, which Temporal retries forever, so one plain signal would stick a run. It decodes
// it into this marker instead, which the workflow and activity interceptors refuse at once.
// Pure: the workflow sandbox imports it.

export const REFUSED_FIELD = 'kubeadmHaRefusedPayload';

/**
 * plain: not encrypted; unauthenticated: AES-GCM authentication failed (altered, or another key
 * under the same id); unknown-key: encrypted with a key id this worker lacks (perhaps dropped too
 * early: the operator can add it back, so a workflow waits for that instead of failing).
 */
export type RefusalReason = 'plain' | 'unauthenticated' | 'unknown-key';

export interface RefusedPayload {
  [REFUSED_FIELD]: { reason: RefusalReason; message: string };
}

export function refusedPayload(reason: RefusalReason, message: string): RefusedPayload {
  return { [REFUSED_FIELD]: { reason, message } };
}

/** The first refused payload among `args`, if any. */
export function firstRefused(args: readonly unknown[]): RefusedPayload[typeof REFUSED_FIELD] | undefined {
  for (const a of args) {
    if (a && typeof a === 'object' && REFUSED_FIELD in a) {
      const r = (a as RefusedPayload)[REFUSED_FIELD];
      if (r && typeof r === 'object' && typeof r.message === 'string') return r;
    }
  }
  return undefined;
}
