// `kubeadm-ha plan`: its own short workflow. It inspects every host read-only with the same
// activities a start uses, gathers the same facts, and evaluates the build's phase plans on them,
// the functions a start runs. Nothing parks and nothing changes: a host that cannot be inspected is
// reported, with what a start would do there.
import { patched, workflowInfo } from '@temporalio/workflow';
import type { ClusterSpec, HostSpec } from '../config/types';
import { canonicalJson, sha256Hex } from '../common/sha256';
import type { ClusterPlan, PlannedHost, PlannedPhase } from '../shared/plan';
import { activitiesFor, type RetryTuning } from './activities';
import { checkPlanInput } from './input-check';
import { BuildCluster } from './build/cluster';
import { DEFAULT_TOKEN_TUNING, JoinTokens } from './build/join-tokens';
import { nodeState, readClusterFacts } from './build/phases/inspect-hosts';
import { BuildState, DEFAULT_UPLOADED_CERTS, type BuildFacts } from './build/state';
import { mapWithLimit } from './engine/concurrency';
import { flatten, isSkipped } from './engine/phase';
import { failureOf } from './engine/steps';
import { buildPhases } from './ha-cluster';

export interface PlanClusterInput {
  spec: ClusterSpec;
  /** Activity retries; by default two attempts, so an unreachable host is reported in seconds. */
  retry?: RetryTuning;
}

export async function planClusterWorkflow(input: PlanClusterInput): Promise<ClusterPlan> {
  if (patched('check-input')) checkPlanInput(input);
  const c = new BuildCluster(input.spec);
  const acts = activitiesFor({ maximumAttempts: 2, initialInterval: '1s', ...input.retry });
  const tokens = new JoinTokens(acts, c.at(c.firstCp), DEFAULT_TOKEN_TUNING, `kubeadm-ha ${workflowInfo().workflowId}`);
  // A plan answers as today's code decides: every patch applies.
  const b = new BuildState(c, acts, tokens, DEFAULT_UPLOADED_CERTS, () => true);
  const unreachable = new Map<string, string>();
  await mapWithLimit(c.hosts, c.spec.workerConcurrency, async (host) => {
    try {
      b.hostFacts.set(
        host.name,
        await acts.inspectHost({ ...c.at(host), role: c.roleOf(host), kubernetesVersion: c.spec.kubernetesVersion }),
      );
    } catch (err) {
      unreachable.set(host.name, failureOf(err).message);
    }
  });

  try {
    await readClusterFacts(b);
  } catch (err) {
    b.cluster = {
      unknown: { fact: "the cluster's Nodes", command: 'readCluster', exitCode: null, error: failureOf(err).message },
    };
  }
  const clusterRead =
    'unknown' in b.cluster
      ? `not read: ${b.cluster.unknown.error}`
      : `${b.cluster.nodes.length} nodes registered, read ${b.clusterVia || 'through the load balancer'}`;
  for (const h of c.hosts) {
    const why = unreachable.get(h.name);
    b.states.set(
      h.name,
      why
        ? {
            state: 'unknown',
            detail: `cannot be inspected: ${why}`,
            unknown: { fact: 'the host', command: 'inspectHost', exitCode: null, error: why },
          }
        : nodeState(b, h),
    );
  }
  b.freezeFacts([]);
  const facts = b.facts();
  const phases = flatten(buildPhases(c)).map((p): PlannedPhase => {
    const plan = p.plan(facts);
    return {
      name: p.name,
      title: p.title,
      ...(p.gate && c.gates.includes(p.gate) ? { gate: p.gate } : {}),
      ...(p.readOnly ? { readOnly: true } : {}),
      ...(isSkipped(plan) ? { skip: plan.skip } : { actions: plan.actions }),
    };
  });
  // What inspection itself would do with a host it cannot read: park it.
  const inspect = phases[0];
  inspect.actions = inspect.actions?.map((a) => {
    const s = facts.states.get(a.host);
    return s?.state === 'unknown' ? { ...a, action: `inspect, then park (retry or abort): ${s.detail}` } : a;
  });
  const hosts = c.hosts.map((h) => plannedHost(c, b, h));
  return {
    cluster: c.spec.name,
    kubernetesVersion: c.spec.kubernetesVersion,
    phases,
    gates: phases.filter((p) => p.gate && !p.skip).map((p) => p.gate!),
    nothingToDo: phases.every((p) => p.readOnly || p.skip !== undefined) && hosts.every((h) => h.state !== 'unknown'),
    hosts,
    clusterRead,
    fingerprint: factsFingerprint(c, b, facts),
  };
}

function plannedHost(c: BuildCluster, b: BuildState, h: HostSpec): PlannedHost {
  const s = b.states.get(h.name)!;
  const f = b.hostFacts.get(h.name);
  return {
    name: h.name,
    role: c.roleOf(h),
    state: s.state,
    ...('detail' in s ? { detail: s.detail } : {}),
    ...(f ? { kubeadmVersion: f.kubeadmVersion } : {}),
  };
}

/** The facts a plan used, hashed: any change on a host or in the cluster changes it. */
export function factsFingerprint(c: BuildCluster, b: BuildState, facts: BuildFacts): string {
  const cluster =
    'unknown' in facts.cluster
      ? { unknown: facts.cluster.unknown.error }
      : {
          nodes: facts.cluster.nodes
            .map((n) => ({ name: n.name, ready: n.ready, roles: n.roles, version: n.version }))
            .sort((x, y) => x.name.localeCompare(y.name)),
          etcdMembers: facts.cluster.etcdMembers
            ?.map((m) => ({ id: m.id, name: m.name, started: m.started, learner: m.learner }))
            .sort((x, y) => x.id.localeCompare(y.id)),
        };
  const hosts = c.hosts.map((h) => ({
    name: h.name,
    state: facts.states.get(h.name),
    files: b.hostFacts.get(h.name)?.files,
    kubeadm: b.hostFacts.get(h.name)?.kubeadmVersion,
  }));
  return sha256Hex(canonicalJson({ kubernetesVersion: c.spec.kubernetesVersion, hosts, cluster }));
}
