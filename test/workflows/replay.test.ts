// Saved histories of the workflow replay with today's code: a change of history shape without
// `patched` fails here, before it can break the runs in flight when a worker is upgraded.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR } from '../helpers/history';
import { workflowBundle } from '../helpers/temporal';
import { workerDataConverter } from '../../src/codec/data-converter';
import { loadCodecKeys } from '../../src/codec/keys';

describe('replay of saved histories', () => {
  const files = readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  it('has histories to replay (gates, a healed join, parking with each decision)', () => {
    assert.ok(files.length >= 5, `found ${files.join(', ')}`);
  });
  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'));
      await Worker.runReplayHistory(
        // Fixtures are saved plain (see recordHistory): a worker without a key reads them as they are.
        { workflowBundle: await workflowBundle(), dataConverter: workerDataConverter(loadCodecKeys({})) },
        history,
        // The run's workflow id, which a run with waves names its children after: the fixture's name.
        file.replace(/\.json$/, ''),
      );
    });
  }
});
