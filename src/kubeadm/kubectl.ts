// Reads `kubectl get nodes` / `kubectl get pods` tables
// (kubectl's table printer: k8s.io/cli-runtime/pkg/printers, tabwriter padding 3).

export interface NodeRow {
  name: string;
  status: string;
  /** [] for "<none>"; "control-plane,master" => ["control-plane", "master"]. */
  roles: string[];
  version: string;
  /** STATUS contains the word Ready ("Ready", "Ready,SchedulingDisabled"), not "NotReady". */
  ready: boolean;
}

export interface PodRow {
  /** Present with `-A` / `--all-namespaces`. */
  namespace?: string;
  name: string;
  ready: string;
  status: string;
  /** As printed, e.g. "0" or "1 (5m ago)". */
  restarts: string;
  age: string;
}

interface Table {
  header: string[];
  rows: string[][];
}

/**
 * Splits a kubectl table. kubectl pads columns with >=3 spaces, so cells split on 2+ spaces or
 * TABs; a row that does not fit the header that way is split on any whitespace and cells beyond
 * the header are folded into the column named `spill` (e.g. RESTARTS "1 (5m ago)").
 */
function readTable(output: string, firstColumn: string, required: string[], spill?: string): Table | undefined {
  const lines = (output ?? '').replace(/\r\n?/g, '\n').split('\n');
  const start = lines.findIndex((l) => {
    const cols = l.trim().split(/\s+/);
    return cols[0] === firstColumn && required.every((r) => cols.includes(r));
  });
  if (start < 0) {
    const rest = lines.join('\n').trim();
    if (rest === '' || /^No resources found/m.test(rest)) return undefined;
    throw new Error(
      `unrecognised kubectl output (no "${[firstColumn, ...required].join(' ')}" header): ${rest.slice(0, 120)}`,
    );
  }
  const header = lines[start].trim().split(/\s+/);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') continue;
    let cells = line.trim().split(/\t+|\s{2,}/);
    if (cells.length !== header.length) {
      cells = line.trim().split(/\s+/);
      const at = spill !== undefined ? header.indexOf(spill) : -1;
      if (cells.length > header.length && at >= 0) {
        const extra = cells.length - header.length;
        cells = [...cells.slice(0, at), cells.slice(at, at + extra + 1).join(' '), ...cells.slice(at + extra + 1)];
      }
    }
    if (cells.length < header.length) continue; // not a table row (e.g. a trailing warning)
    rows.push(cells);
  }
  return { header, rows };
}

export function parseGetNodes(output: string): NodeRow[] {
  const t = readTable(output, 'NAME', ['STATUS', 'ROLES', 'VERSION']);
  if (!t) return [];
  const col = (r: string[], name: string) => r[t.header.indexOf(name)];
  return t.rows.map((r) => {
    const status = col(r, 'STATUS');
    const roles = col(r, 'ROLES');
    return {
      name: col(r, 'NAME'),
      status,
      roles: roles === '<none>' ? [] : roles.split(',').filter((x) => x !== ''),
      version: col(r, 'VERSION'),
      ready: status.split(',').includes('Ready'),
    };
  });
}

export function parseGetPods(output: string): PodRow[] {
  const lines = (output ?? '').replace(/\r\n?/g, '\n');
  const withNs = /^\s*NAMESPACE\s+NAME\s/m.test(lines);
  const t = readTable(lines, withNs ? 'NAMESPACE' : 'NAME', ['READY', 'STATUS', 'RESTARTS', 'AGE'], 'RESTARTS');
  if (!t) return [];
  const col = (r: string[], name: string) => r[t.header.indexOf(name)];
  return t.rows.map((r) => {
    const row: PodRow = {
      name: col(r, 'NAME'),
      ready: col(r, 'READY'),
      status: col(r, 'STATUS'),
      restarts: col(r, 'RESTARTS'),
      age: col(r, 'AGE'),
    };
    return withNs ? { namespace: col(r, 'NAMESPACE'), ...row } : row;
  });
}
