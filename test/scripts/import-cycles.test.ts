import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCycles, layerViolations, relativeImports } from '../../scripts/import-cycles';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

test('no cycle in a tree or a diamond', () => {
  assert.deepEqual(findCycles(graph({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] })), []);
  assert.deepEqual(findCycles(new Map()), []);
});

test('a two-file cycle and a self-import, each as a closed chain', () => {
  assert.deepEqual(findCycles(graph({ a: ['b'], b: ['a'] })), [['a', 'b', 'a']]);
  assert.deepEqual(findCycles(graph({ a: ['a', 'b'], b: [] })), [['a', 'a']]);
});

test('a long cycle is reported once, without the files that hang off it', () => {
  const g = graph({ a: ['x', 'b'], b: ['c'], c: ['d'], d: ['a'], x: [] });
  assert.deepEqual(findCycles(g), [['a', 'b', 'c', 'd', 'a']]);
});

test('a hub with several cycles: every file on one is on a reported chain', () => {
  // The ssh shape before the clean-up: session imports connect, files and target, each imports session back.
  const g = graph({
    session: ['connect', 'files', 'target', 'exec'],
    connect: ['session'],
    files: ['session'],
    target: ['session'],
    exec: [],
  });
  assert.deepEqual(findCycles(g), [
    ['connect', 'session', 'connect'],
    ['files', 'session', 'files'],
    ['target', 'session', 'target'],
  ]);
});

test('separate tangles are reported separately; edges to unknown files are harmless', () => {
  const g = graph({ a: ['b', 'elsewhere'], b: ['a'], c: ['d'], d: ['c'] });
  assert.deepEqual(findCycles(g), [
    ['a', 'b', 'a'],
    ['c', 'd', 'c'],
  ]);
});

test('relative imports: import, import type, export from, side effects, multi-line; not comments or packages', () => {
  const source = [
    "import { a } from './a';",
    "import type { B } from '../b';",
    'import {',
    '  c,',
    "} from './c';",
    "export { d } from './d';",
    "export * from './e';",
    "import './f';",
    "import { stringify } from 'yaml';",
    "// import { g } from './g';",
    'const s = "import { h } from \'./h\'";',
    'export const later = 1;',
    "export type { I } from './i';",
  ].join('\n');
  assert.deepEqual(relativeImports(source), ['./a', '../b', './c', './d', './e', './f', './i']);
});

test('layer rule: src/kubeadm may not import config, ssh, activities, workflows or client', () => {
  const g = graph({
    'src/kubeadm/external-etcd.ts': ['src/config/types.ts', 'src/kubeadm/version.ts', 'src/common/shell-quote.ts'],
    'src/kubeadm/x.ts': ['src/ssh/session.ts'],
    'src/config/schema.ts': ['src/kubeadm/version.ts'],
    'src/kubeadmish/y.ts': ['src/config/types.ts'],
  });
  assert.deepEqual(
    layerViolations(g).map((v) => v.split(' (')[0]),
    ['src/kubeadm/external-etcd.ts -> src/config/types.ts', 'src/kubeadm/x.ts -> src/ssh/session.ts'],
  );
});
