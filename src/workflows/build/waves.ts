// A large fleet's workers are inspected and joined in waves (engine/waves.ts): each wave a child
// workflow (../worker-wave.ts) given the cluster file with only its own workers, and, to join, the
// CA hash and the states inspection found; it mints its own join token on the first control plane
// and deletes it when done, so no token passes from the run to a wave.
import { startChild } from '@temporalio/workflow';
import type { HostSpec } from '../../config/types';
import type { NodeState } from '../../kubeadm/node-state';
import type { PhaseContext } from '../engine/context';
import { runWaves } from '../engine/waves';
import { type WaveStep, workerWaveWorkflow, type WorkerWaveResult } from '../worker-wave';
import type { BuildState } from './state';

/**
 * Runs from before this patch inspected and joined every worker in the run's own history; files
 * with more workers than a wave holds now do it in waves.
 */
export const WORKER_WAVES = 'worker-waves';
/**
 * Workers per wave. A wave's history is at most about 10 events and 4 KB per worker it joins (one
 * workflow task per join; about 3.4 events at concurrency 50, docs/benchmark.md), so 500 keep it
 * under 5,000 events and 2 MB: half of Temporal's 10,240-event warning.
 */
export const WAVE_SIZE = 500;

const prefix: Record<WaveStep, string> = { inspectHost: 'inspect', joinNode: 'workers' };

/** `step` on `hosts` (workers) in waves of `ctx.state.waves.size`; the hosts' facts and states come back to the run. */
export async function inWaves(
  ctx: PhaseContext<BuildState>,
  step: WaveStep,
  hosts: HostSpec[],
): Promise<WorkerWaveResult[]> {
  const b = ctx.state;
  const { size, tuning } = b.waves!;
  const waves = Array.from({ length: Math.ceil(hosts.length / size) }, (_, k) => hosts.slice(k * size, (k + 1) * size));
  const results = await runWaves(
    ctx,
    step,
    waves.map((workers, k) => ({
      name: `${prefix[step]}-${k + 1}`,
      hosts: workers,
      start: (workflowId: string) =>
        startChild(workerWaveWorkflow, {
          workflowId,
          args: [
            {
              step,
              spec: { ...b.c.spec, workers },
              ...(tuning ? { tuning } : {}),
              ...(step === 'joinNode' ? { caCertHash: b.caCertHash, halfDone: halfDone(b, workers) } : {}),
            },
          ],
        }),
    })),
    // Inspected hosts are classified next: until then they are still running in the run's view.
    step === 'inspectHost' ? 'running' : 'done',
  );
  if (step === 'joinNode') {
    const notJoined = new Set(results.flatMap((r) => [...r.skipped, ...r.unfinished]));
    for (const h of hosts) if (!notJoined.has(h.name)) b.finished(h, true, 'joined in a wave');
  }
  return results;
}

/** The workers an earlier attempt left half-done: a wave cleans them first, as the run would. */
function halfDone(b: BuildState, workers: HostSpec[]): Record<string, NodeState> {
  return Object.fromEntries(
    workers.flatMap((h) => {
      const s = b.states.get(h.name);
      return s?.state === 'half-done' ? [[h.name, s]] : [];
    }),
  );
}
