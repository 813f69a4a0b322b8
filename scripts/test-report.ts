// The test runner's reporter for scripts/test.sh and scripts/test-unit.sh: the spec reporter's output,
// then how long each test file took (slowest first) and the total, so a file nearing its timeout shows,
// and last the runner's own counts as `N passed, N failed`.
//
//   node --test --test-reporter=./lib/scripts/test-report.js --test-reporter-destination=stdout FILES
import { relative } from 'node:path';
import { finished } from 'node:stream/promises';
import { spec, type TestEvent } from 'node:test/reporters';

/** Each file's duration, slowest first, and the total, as the lines printed after the spec output. */
function durationTable(files: ReadonlyMap<string, number>, cwd = process.cwd()): string[] {
  const rows = [...files].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  const line = (ms: number, what: string) => `${(ms / 1000).toFixed(1).padStart(8)} s  ${what}`;
  return [
    'test files by duration:',
    ...rows.map(([file, ms]) => line(ms, relative(cwd, file))),
    line(total, `sum of ${rows.length} files`),
  ];
}

async function* testReport(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const out: string[] = [];
  const specReporter = new spec();
  specReporter.on('data', (s: string) => out.push(s));
  const files = new Map<string, number>();
  const counts: Record<string, string> = {};
  for await (const event of source) {
    specReporter.write(event);
    // A file's own event is named by its path: the child process's whole run, start-up included.
    if (event.type === 'test:complete' && event.data.file && event.data.name === event.data.file) {
      files.set(event.data.file, event.data.details.duration_ms);
    }
    if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
      const m = /^(pass|fail|cancelled) (\d+)$/.exec(event.data.message);
      if (m) counts[m[1]] = m[2];
    }
    if (out.length) yield out.splice(0).join('');
  }
  specReporter.end();
  await finished(specReporter);
  // A test cut off by its timeout counts as cancelled, not failed: named here too, so the last line says it.
  const cancelled = counts.cancelled && counts.cancelled !== '0' ? `, ${counts.cancelled} cancelled` : '';
  const summary = `${counts.pass ?? '?'} passed, ${counts.fail ?? '?'} failed${cancelled}`;
  yield `${out.splice(0).join('')}\n${durationTable(files).join('\n')}\n${summary}\n`;
}

// The runner loads a reporter as its module's default export; a CommonJS module's default is module.exports.
export = testReport;
