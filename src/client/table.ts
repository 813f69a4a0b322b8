// Plain-text tables for the CLI: columns padded to their widest cell, three spaces apart.
import type { HostProgress } from '../shared/definitions';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

const HOST_HEADER = ['HOST', 'ROLE', 'ADDRESS', 'STATE', 'DETAIL'];

/** One row per host: name, role, address, state and what it is doing or why it stopped. */
export function hostTable(hosts: HostProgress[]): string {
  return table([HOST_HEADER, ...hosts.map((h) => [h.name, h.role, h.address, h.state, h.detail ?? ''])]);
}
