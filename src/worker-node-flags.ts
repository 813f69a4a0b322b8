// Node flags the worker process runs with; every launcher (npm run worker, the demo, the tests, the
// benchmark) takes them from here. A 2 MiB semi-space instead of V8's 16 MiB: the worker's garbage
// is short-lived (output lines, SSH buffers), and a small young generation keeps its peak RSS at
// 100 workers near 200 MB instead of 225 (npm run bench), for about 10% more worker CPU.
import { resolve } from 'node:path';

export const WORKER_NODE_FLAGS = ['--max-semi-space-size=2'];

/** argv for spawning the worker with process.execPath. */
export function workerArgv(): string[] {
  return [...WORKER_NODE_FLAGS, resolve(__dirname, 'worker.js')];
}

if (require.main === module) console.log(workerArgv().join(' '));
