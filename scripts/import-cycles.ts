// Fails when the modules under src/ import each other in a cycle, or when a low-level layer imports
// one above it. A cycle makes load order decide which binding is still undefined, and hides which
// module owns a concept; src/kubeadm is kubeadm's own knowledge (pure, no I/O), so nothing there may
// depend on the cluster file, SSH, activities, workflows or the CLI.
//
//   npm run check:imports      (node lib/scripts/import-cycles.js, after tsc --build)
//
// Imports are read with TypeScript's own scanner (ts.preProcessFile): `import`, `import type`,
// `export ... from`, side-effect imports and `import('...')`, never a match inside a comment or string.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/** Module graph: a file (path relative to the project, '/'-separated) -> the files it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Layers a folder must not import from, with the reason printed beside each offending import. */
export const LAYER_RULES: ReadonlyArray<{ folder: string; mustNotImport: readonly string[]; why: string }> = [
  {
    folder: 'src/kubeadm',
    mustNotImport: ['src/config', 'src/activities', 'src/workflows', 'src/client', 'src/ssh'],
    why: 'kubeadm knowledge is pure and low-level: the cluster file, SSH and the layers above use it, not the reverse',
  },
];

/** Module specifiers that start with "./" or "../", in source order. */
export function relativeImports(source: string): string[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('./') || s.startsWith('../'));
}

/**
 * Cycles in `graph`, each as a chain that starts and ends with the same file. Every file on a cycle
 * is on at least one reported chain: per strongly connected component (Tarjan), the shortest cycle
 * through each file not yet on a reported chain, so one tangle does not print every permutation.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const out: string[][] = [];
  for (const component of stronglyConnected(graph)) {
    const inside = new Set(component);
    const covered = new Set<string>();
    for (const start of [...component].sort()) {
      if (covered.has(start)) continue;
      const chain = shortestCycle(graph, start, inside);
      if (!chain) continue; // a lone file without a self-import
      chain.forEach((f) => covered.add(f));
      out.push(chain);
    }
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

function stronglyConnected(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  // Recursion depth is the longest import chain: a few dozen files here.
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components;
}

/** Breadth-first from `start` back to itself, staying inside its component. */
function shortestCycle(graph: ImportGraph, start: string, inside: ReadonlySet<string>): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i];
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const chain = [start];
        for (let at: string | undefined = v; at !== undefined && at !== start; at = cameFrom.get(at)) {
          chain.splice(1, 0, at);
        }
        return [...chain, start];
      }
      if (inside.has(w) && !cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/** Imports that break LAYER_RULES, as "importer -> imported (why)". */
export function layerViolations(graph: ImportGraph, rules = LAYER_RULES): string[] {
  const under = (file: string, folder: string) => file === folder || file.startsWith(`${folder}/`);
  const out: string[] = [];
  for (const [file, imports] of graph) {
    for (const rule of rules.filter((r) => under(file, r.folder))) {
      for (const imported of imports) {
        if (rule.mustNotImport.some((f) => under(imported, f))) out.push(`${file} -> ${imported} (${rule.why})`);
      }
    }
  }
  return out.sort();
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The .ts file a specifier names, as tsc resolves it (x.ts, then x/index.ts); undefined for another kind of file. */
function resolveSpecifier(fromFile: string, specifier: string): string | undefined | 'missing' {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  if (existsSync(base) && statSync(base).isFile()) return undefined; // e.g. a .json import
  return 'missing';
}

/** The import graph of every .ts file under `dir`, paths relative to `root`. */
export function readImportGraph(root: string, dir: string): { graph: Map<string, string[]>; unresolved: string[] } {
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  const graph = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const file of tsFiles(dir).sort()) {
    const imports = new Set<string>();
    for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolveSpecifier(file, specifier);
      if (target === 'missing') unresolved.push(`${rel(file)}: cannot resolve ${JSON.stringify(specifier)}`);
      else if (target !== undefined) imports.add(rel(target));
    }
    graph.set(rel(file), [...imports]);
  }
  return { graph, unresolved };
}

function main(): void {
  // Compiled to lib/scripts/import-cycles.js: the project is two folders up.
  const root = resolve(__dirname, '../..');
  const { graph, unresolved } = readImportGraph(root, join(root, 'src'));
  const cycles = findCycles(graph);
  const violations = layerViolations(graph);
  for (const u of unresolved) console.error(`unresolved import: ${u}`);
  for (const c of cycles) console.error(`import cycle: ${c.join(' -> ')}`);
  for (const v of violations) console.error(`layer violation: ${v}`);
  const problems = unresolved.length + cycles.length + violations.length;
  if (problems > 0) {
    console.error(`${problems} import problem(s) in ${graph.size} files under src/`);
    process.exit(1);
  }
  console.log(`no import cycles or layer violations in ${graph.size} files under src/`);
}

if (require.main === module) main();
