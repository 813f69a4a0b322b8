// A workflow's whole history as text, with every payload decoded, so tests can search it for
// what operators would see in the Web UI (approver names) and for what must never be there (secrets).
// Encrypted payloads are decrypted with the test's keys first: the text is what a codec server shows.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { EncryptionCodec, isEncrypted } from '../../src/codec/encryption-codec';
import { loadCodecKeys } from '../../src/codec/keys';
import { jsonPayloads, fromJsonPayload, toJsonPayload } from '../../src/codec/codec-server';

export const HISTORIES_DIR = resolve(__dirname, '../../../test/fixtures/histories');

/** Every payload ({metadata: {k: base64}, data: base64}) in a history in its proto3 JSON form. */
export { jsonPayloads };

/**
 * Payloads of a proto3 JSON history, leaving out search attributes (plain by design: cluster, phase,
 * status) and `patched` markers, which the SDK's core writes itself, past any codec: they hold only
 * the patch's name (`{"id":"check-input","deprecated":false}`).
 */
export function storedPayloads(doc: unknown): { metadata?: Record<string, string>; data?: string }[] {
  const isPatchMarker = (v: object) =>
    (v as { markerRecordedEventAttributes?: { markerName?: string } }).markerRecordedEventAttributes?.markerName ===
    'core_patch';
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.filter((x) => !(x && typeof x === 'object' && isPatchMarker(x))).map(strip)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => k !== 'searchAttributes')
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  return jsonPayloads(strip(doc));
}

/** The history JSON with each encrypted payload replaced by the one it holds (in place). */
export async function decryptHistoryJson<T>(history: T): Promise<T> {
  const codec = new EncryptionCodec(loadCodecKeys(), 'the test');
  for (const p of jsonPayloads(history)) {
    const payload = fromJsonPayload(p);
    if (!isEncrypted(payload)) continue;
    const [plain] = await codec.decode([payload]);
    const json = toJsonPayload(plain);
    for (const k of Object.keys(p)) delete (p as Record<string, unknown>)[k];
    Object.assign(p, json);
  }
  return history;
}

export async function historyText(h: WorkflowHandle): Promise<string> {
  const history = await decryptHistoryJson(JSON.parse(JSON.stringify(await h.fetchHistory())));
  return JSON.stringify(history).replace(
    /"data":"([A-Za-z0-9+/=]+)"/g,
    (_m, b64: string) => `"data":${JSON.stringify(Buffer.from(b64, 'base64').toString('utf8'))}`,
  );
}

/**
 * With KHA_RECORD_HISTORIES=1, saves the run's history as a replay fixture: the replay test then
 * proves that today's workflow code still replays what yesterday's recorded (runs in flight
 * survive a worker upgrade). Re-record only for a deliberate change of history shape. Fixtures are
 * saved decrypted (plain JSON payloads), so they replay whatever key a later test run makes.
 */
export async function recordHistory(
  h: WorkflowHandle,
  name: string,
  address: string,
  temporalCli: string,
): Promise<void> {
  if (!process.env.KHA_RECORD_HISTORIES) return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // The CLI's JSON is the canonical proto3 form, the one the Web UI downloads and replay reads.
  const json = execFileSync(
    temporalCli,
    ['workflow', 'show', '-w', h.workflowId, '--output', 'json', '--address', address],
    { encoding: 'utf8' },
  );
  writeFileSync(
    resolve(HISTORIES_DIR, `${name}.json`),
    `${JSON.stringify(await decryptHistoryJson(JSON.parse(json)), null, 2)}\n`,
  );
}
