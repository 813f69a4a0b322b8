// Before anything changes: SSH access, sudo and kubeadm on every host, what kubeadm already did
// there, and the cluster as its API servers and etcd report it. These are the facts every later
// phase plans from; a host whose state cannot be established parks, and nothing is reset,
// initialised or joined on a guess.
import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { HostSpec } from '../../../config/types';
import { controlPlaneState, etcdHostState, initState, type NodeState, workerState } from '../../../kubeadm/node-state';
import type { PhaseContext } from '../../engine/context';
import type { Phase } from '../../engine/phase';
import type { BuildCluster } from '../cluster';
import { inspectInput, inspectSteps } from '../host-steps';
import type { BuildFacts, BuildState } from '../state';
import { inWaves } from '../waves';

/** Runs from before this patch reset a node whose facts could not be read; now it parks. */
const UNKNOWN_PARKS = 'unknown-parks';

export const inspectHosts = (c: BuildCluster): Phase<BuildFacts, BuildState> => ({
  name: 'inspectHosts',
  title: 'Check SSH access, sudo, kubeadm and what is already done on every host',
  readOnly: true,
  plan: () => ({
    hosts: c.hosts,
    actions: c.hosts.map((h) => ({ host: h.name, role: c.roleOf(h), action: 'inspect (read-only)' })),
  }),
  run: async (ctx, hosts) => {
    const b = ctx.state;
    if (b.waves) {
      // The workers to join are inspected in waves (../waves.ts), the other hosts here.
      const waved = new Set(c.spec.workers);
      await ctx.onHosts(
        hosts.filter((h) => !waved.has(h)),
        inspectSteps(b),
      );
      for (const r of await inWaves(ctx, 'inspectHost', c.spec.workers))
        for (const f of r.facts ?? []) b.hostFacts.set(f.name, f);
    } else await ctx.onHosts(hosts, inspectSteps(b));
    if (hasAdminConf(b)) await ctx.onFirst('readCluster', () => readClusterFacts(b));
    else b.cluster = { unknown: b.noApiServer() };
    for (const h of hosts) classify(ctx, h);
    const unknown = hosts.filter((h) => b.states.get(h.name)?.state === 'unknown');
    if (unknown.length && patched(UNKNOWN_PARKS)) await Promise.all(unknown.map((host) => parkUnknown(ctx, host)));
    b.freezeFacts(ctx.skipped);
  },
});

/**
 * The cluster's view, read through the first control plane when it has admin.conf. At inspection
 * it is a step of the first control plane (it parks there if it fails); when an unknown host's
 * retry reads it again, a failure stays that host's own park.
 */
export async function readClusterFacts(b: BuildState): Promise<string> {
  const { c } = b;
  if (!hasAdminConf(b)) {
    b.cluster = { unknown: b.noApiServer() };
    return `unknown: ${b.cluster.unknown.error}`;
  }
  const r = await b.acts.readCluster({ ...c.at(c.firstCp), stacked: c.stacked, controlPlanes: c.spec.controlPlanes });
  // null: what versions before UnknownFact answered when no API server did.
  b.cluster = r ?? {
    unknown: {
      fact: "the cluster's Nodes",
      command: 'kubectl get nodes',
      exitCode: null,
      error: 'the API server does not answer',
    },
  };
  if ('unknown' in b.cluster) return `unknown: ${b.cluster.unknown.error}`;
  if (r && !('unknown' in r)) {
    b.caCertHash = r.caCertHash;
    b.clusterVia = r.via ?? '';
  }
  return `${b.cluster.nodes.length} nodes registered (read ${b.clusterVia || 'through the load balancer'})`;
}

const hasAdminConf = (b: BuildState): boolean => b.hostFacts.get(b.c.firstCp.name)?.files.adminConf === true;

function classify(ctx: PhaseContext<BuildState>, h: HostSpec): NodeState {
  const b = ctx.state;
  const s = nodeState(b, h);
  b.states.set(h.name, s);
  ctx.progress.setHost(
    h.name,
    s.state === 'joined' ? 'done' : 'pending',
    s.state === 'clean' ? ctx.progress.detailOf(h.name) : `${s.state}: ${s.detail}`,
  );
  return s;
}

/** A host's state from its files and the cluster's view (src/kubeadm/node-state.ts). */
export function nodeState(b: Pick<BuildState, 'c' | 'hostFacts' | 'cluster'>, h: HostSpec): NodeState {
  const { c } = b;
  const f = b.hostFacts.get(h.name);
  if (!f) return { state: 'clean' };
  const role = c.roleOf(h);
  if (h === c.firstCp) return initState(f.files, b.cluster, h, c.stacked);
  if (role === 'control-plane') return controlPlaneState(f.files, b.cluster, h, c.stacked);
  return role === 'etcd' ? etcdHostState(f.files) : workerState(f.files, b.cluster, h.name);
}

/** An unknown host parks with retry and abort only; a retry inspects it and reads the cluster again. */
async function parkUnknown(ctx: PhaseContext<BuildState>, host: HostSpec): Promise<void> {
  const b = ctx.state;
  let tries = 0;
  await ctx.step({
    step: 'classifyNode',
    host,
    role: b.c.roleOf(host),
    skippable: false,
    options: ['retry', 'abort'],
    retryWill: [
      `inspect ${host.name} and read the cluster again (nothing on any host changes), then decide from what they say`,
    ],
    run: async () => {
      if (tries++ > 0) {
        // Awaited directly, not through inspectHost(): an extra async hop would reorder this
        // activity against an update's completion in the same workflow task (saved histories).
        b.hostFacts.set(host.name, await b.acts.inspectHost(inspectInput(b, host)));
        await readClusterFacts(b);
      }
      const state = classify(ctx, host);
      if (state.state === 'unknown')
        throw ApplicationFailure.nonRetryable(`${host.name}: state unknown: ${state.detail}`, 'NodeStateUnknown');
      return state.state;
    },
  });
}
