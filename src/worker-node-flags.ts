// How the worker process is started; every launcher (npm run worker, the demo, the tests, the
// benchmark) takes it from here. Measured with npm run bench (docs/benchmark.md):
// - a 2 MiB V8 semi-space instead of 16 MiB, and --optimize-for-size: the worker's garbage is
//   short-lived (output lines, SSH buffers), so a small young generation and a slower-growing heap
//   cost a little CPU and save tens of MB;
// - MALLOC_ARENA_MAX=2: the Temporal core's threads would otherwise get glibc malloc arenas of their
//   own, and their fragmentation grows the resident set over a long run outside the JavaScript heap.
import { resolve } from 'node:path';

export const WORKER_NODE_FLAGS = ['--max-semi-space-size=2', '--optimize-for-size'];
export const WORKER_ENV: Record<string, string> = { MALLOC_ARENA_MAX: '2' };

/** argv for spawning the worker with process.execPath. */
export function workerArgv(): string[] {
  return [...WORKER_NODE_FLAGS, resolve(__dirname, 'worker.js')];
}

/** The environment to spawn the worker with: `base` plus WORKER_ENV. */
export function workerEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...base, ...WORKER_ENV };
}

// scripts/worker.sh: `env NAME=value … node FLAGS worker.js`, one word per line (the path may hold spaces).
if (require.main === module) {
  console.log([...Object.entries(WORKER_ENV).map(([k, v]) => `${k}=${v}`), 'node', ...workerArgv()].join('\n'));
}
