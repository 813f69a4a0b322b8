// The build's phases as data, without a workflow: each plan is a pure function of the facts and
// the cluster file (the same facts, the same plan, whatever a run did in between), and nested
// phases run in order after their parent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeState } from '../../src/kubeadm/node-state';
import { BuildCluster } from '../../src/workflows/build/cluster';
import type { BuildFacts } from '../../src/workflows/build/state';
import { flatten, isSkipped, type Phase } from '../../src/workflows/engine/phase';
import { stepIdFor } from '../../src/workflows/engine/steps';
import { buildPhases } from '../../src/workflows/ha-cluster';
import { finished, spec } from './fakes';

const factsOf = (states: Record<string, NodeState>, cluster: BuildFacts['cluster'] = { nodes: [] }): BuildFacts => ({
  states: new Map(Object.entries(states)),
  cluster,
  via: '',
  skipped: [],
  cniFromReadyNode: () => true,
});
const plans = (c: BuildCluster, facts: BuildFacts) =>
  Object.fromEntries(
    buildPhases(c).map((p) => {
      const r = p.plan(facts);
      return [p.name, isSkipped(r) ? `skip: ${r.skip}` : r.actions.map((a) => `${a.host}: ${a.action}`)];
    }),
  );

test('the build reads like the kubeadm page, and a fresh cluster plans every step', () => {
  const c = new BuildCluster(spec(['init'], 2));
  assert.deepEqual(
    buildPhases(c).map((p) => p.name),
    [
      'inspectHosts',
      'probeLoadBalancer',
      'init',
      'installCni',
      'distributeCerts',
      'joinControlPlanes',
      'joinWorkers',
      'verifyNodes',
    ],
  );
  const p = plans(c, factsOf({}));
  assert.deepEqual(p.init, ['cp1: kubeadm init']);
  assert.deepEqual(p.joinWorkers, ['w1: kubeadm join', 'w2: kubeadm join']);
  assert.deepEqual(p.distributeCerts, [
    'cp2: copy the shared certificates from cp1',
    'cp3: copy the shared certificates from cp1',
  ]);
});

test('a plan depends on the facts alone: the same facts give the same plan, twice', () => {
  const c = new BuildCluster(spec([], 2));
  const f = finished(2);
  const joined: Record<string, NodeState> = Object.fromEntries(
    Object.keys(f.files).map((h) => [h, { state: 'joined', detail: `${h} ok` }]),
  );
  const facts = factsOf(
    { ...joined, w2: { state: 'half-done', detail: 'kubelet.conf, no Node', live: [], removes: ['kubelet.conf'] } },
    f.cluster as BuildFacts['cluster'],
  );
  const first = plans(c, facts);
  assert.deepEqual(plans(c, facts), first);
  assert.deepEqual(first.joinWorkers, ['w2: reset what an earlier attempt left (kubelet.conf), then kubeadm join']);
  assert.match(String(first.init), /^skip: cp1 is already initialised: cp1 ok/);
});

test('nested phases run after their parent, in order; a group without a run of its own is not a phase', () => {
  const leaf = (name: string, children?: Phase<unknown>[]): Phase<unknown> => ({
    name,
    title: name,
    plan: () => ({ skip: 'x' }),
    run: async () => undefined,
    ...(children ? { children } : {}),
  });
  const group: Phase<unknown> = {
    name: 'hop',
    title: 'upgrade hop',
    plan: () => ({ skip: 'group' }),
    children: [leaf('apply'), leaf('nodes', [leaf('cp2'), leaf('cp3')])],
  };
  assert.deepEqual(
    flatten([leaf('first'), group, leaf('last')]).map((p) => p.name),
    ['first', 'apply', 'nodes', 'cp2', 'cp3', 'last'],
  );
});

test("journal ids stay within the journal's limit for node names up to 253 characters, and stay unique", () => {
  const long = (c: string) => `${'a'.repeat(40)}${c.repeat(213)}`; // 253 characters, the same first 40
  const longest = 'clean-distributeCerts';
  const ids = ['x', long('b'), long('c')].map((h) => `${stepIdFor('0123456789ab', longest, h, '12-3')}.certs`);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9._-]{1,160}$/, id);
  assert.equal(new Set(ids).size, 3);
  assert.equal(stepIdFor('t', 'joinNode', 'w1', 1), 't.joinNode.w1.1', 'short names are kept whole');
});
