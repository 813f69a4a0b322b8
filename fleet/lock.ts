// A tiny cross-process lock (mkdir is atomic). Used for shared cluster state and the fault file:
// parallel worker joins write the same files. Stale locks of dead processes are broken.
import * as fs from 'node:fs';
import { alive, sleepSync } from './proc';

export function withFileLock<T>(lockDir: string, fn: () => T, timeoutMs = 30000): T {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(`${lockDir}/owner`, String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = 0;
      try {
        owner = parseInt(fs.readFileSync(`${lockDir}/owner`, 'utf8'), 10);
      } catch {
        /* owner not written yet */
      }
      if (owner && !alive(owner)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > until) throw new Error(`timed out waiting for lock ${lockDir}`, { cause: e });
      sleepSync(5 + Math.random() * 20);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
