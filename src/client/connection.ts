// How the worker and the CLI find Temporal: --address flag, else TEMPORAL_ADDRESS, else localhost:7233.
import type { ConnectionLike } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../shared/definitions';
import { temporal } from '@temporalio/proto';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Web UI base URL, for links. */
  ui: string;
}

export function temporalTarget(flags: { address?: string; namespace?: string; ui?: string } = {}): TemporalTarget {
  return {
    address: flags.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233',
    namespace: flags.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
    ui: (flags.ui ?? process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/$/, ''),
  };
}

export function workflowUrl(t: TemporalTarget, workflowId: string): string {
  return `${t.ui}/namespaces/${encodeURIComponent(t.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * Registers our search attributes (cluster name, phase) unless the server has them, so runs can be
 * found in the Web UI. The dev server and the compose setup both start without them.
 */
export async function ensureSearchAttributes(connection: ConnectionLike, namespace: string): Promise<void> {
  const have = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in (have.customAttributes ?? {})));
  if (missing.length === 0) return;
  const searchAttributes = Object.fromEntries(
    missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
}
