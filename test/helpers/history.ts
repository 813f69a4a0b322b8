// A workflow's whole history as text, with every payload decoded, so tests can search it for
// what operators would see in the Web UI (approver names) and for what must never be there (secrets).
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { execFileSync } from 'node:child_process';

export const HISTORIES_DIR = resolve(__dirname, '../../../test/fixtures/histories');

export async function historyText(h: WorkflowHandle): Promise<string> {
  const json = JSON.stringify(await h.fetchHistory());
  return json.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => `"data":${JSON.stringify(Buffer.from(b64, 'base64').toString('utf8'))}`);
}

/**
 * With KHA_RECORD_HISTORIES=1, saves the run's history as a replay fixture: the replay test then
 * proves that today's workflow code still replays what yesterday's recorded (runs in flight
 * survive a worker upgrade). Re-record only for a deliberate change of history shape.
 */
export async function recordHistory(h: WorkflowHandle, name: string, address: string, temporalCli: string): Promise<void> {
  if (!process.env.KHA_RECORD_HISTORIES) return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // The CLI's JSON is the canonical proto3 form, the one the Web UI downloads and replay reads.
  const json = execFileSync(temporalCli, ['workflow', 'show', '-w', h.workflowId, '--output', 'json', '--address', address], { encoding: 'utf8' });
  writeFileSync(resolve(HISTORIES_DIR, `${name}.json`), json);
}
