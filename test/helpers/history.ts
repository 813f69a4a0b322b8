// A workflow's whole history as text, with every payload decoded, so tests can search it for
// what operators would see in the Web UI (approver names) and for what must never be there (secrets).
import type { WorkflowHandle } from '@temporalio/client';

export async function historyText(h: WorkflowHandle): Promise<string> {
  const json = JSON.stringify(await h.fetchHistory());
  return json.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => `"data":${JSON.stringify(Buffer.from(b64, 'base64').toString('utf8'))}`);
}
