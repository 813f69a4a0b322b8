// Merges a caller's AbortSignal and a timeout into one signal plus a human-readable reason.
export interface LinkedAbort {
  signal: AbortSignal;
  /** Resolves when aborted; never rejects. */
  aborted: Promise<void>;
  reason(): string;
  dispose(): void;
}

export function linkAbort(outer?: AbortSignal, timeoutMs?: number): LinkedAbort {
  const ctl = new AbortController();
  let why = '';
  const fire = (r: string) => {
    if (!why) why = r;
    ctl.abort();
  };
  const onOuter = () => fire('aborted by caller');
  outer?.addEventListener('abort', onOuter, { once: true });
  if (outer?.aborted) fire('aborted by caller');
  const timer =
    timeoutMs !== undefined ? setTimeout(() => fire(`timed out after ${timeoutMs} ms`), timeoutMs) : undefined;
  const aborted = new Promise<void>((resolve) => {
    if (ctl.signal.aborted) resolve();
    else ctl.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  return {
    signal: ctl.signal,
    aborted,
    reason: () => why,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}
