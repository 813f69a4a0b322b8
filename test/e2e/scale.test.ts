// 5,000 workers, the most a cluster file takes (Kubernetes' own limit): a whole build with stand-in
// activities on the real dev server (scripts/bench-orchestration.ts), which joins every worker in
// waves of child workflows. No execution may pass Temporal's 10,240-event warning; the figures
// themselves are the benchmark's (docs/benchmark.md), not asserted here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { LIMITS } from '../../src/config/schema-parts';

const ROOT = resolve(__dirname, '../../..');

describe('a 5,000-worker build with stand-in activities on the dev server', () => {
  it('joins every worker, in waves, with no history past 10,240 events', async () => {
    assert.equal(LIMITS.workers, 5000);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [resolve(ROOT, 'lib/scripts/bench-orchestration.js'), '--workers', String(LIMITS.workers)],
      { maxBuffer: 16 << 20 },
    );
    const line = stdout.split('\n').find((l) => l.startsWith('{"benchOrchestration"'));
    assert.ok(line, stdout);
    const [row] = (
      JSON.parse(line) as {
        rows: { workers: number; executions: number; maxEvents: number; eventsPerWorker: number }[];
      }
    ).rows;
    assert.equal(row.workers, 5000, 'every worker joined (the script fails otherwise)');
    assert.equal(row.executions, 21, 'the run, 10 inspection waves and 10 join waves of 500');
    assert.ok(row.maxEvents < 10_240, `the largest history holds ${row.maxEvents} events`);
  });
});
