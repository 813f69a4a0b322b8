// `kubeadm-ha plan` on the local fleet (stand-in control plane, real sshd, HAProxy, dev server and
// worker), compared host by host with what `start` then runs, per the hosts' kubeadm invocation
// logs: on a fresh fleet, a half-done one (a worker whose Node was deleted) and a finished one. A
// plan itself changes nothing on any host.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readInvocations, type FleetInfo } from '../../fleet';
import { main } from '../../src/client/cli';
import { KUBECTL } from '../../src/kubeadm/paths';
import type { ClusterPlan } from '../../src/shared/plan';
import { sessionPool } from '../../src/ssh/pool';
import { onHost, Rig } from '../helpers/harness';

/** kubeadm's host-changing commands per host, in order, as a plan's actions name them. */
function plannedKubeadm(p: ClusterPlan): Record<string, string[]> {
  const verb: Record<string, string> = { init: 'init', joinControlPlanes: 'join', joinWorkers: 'join' };
  const out: Record<string, string[]> = {};
  for (const ph of p.phases) {
    for (const a of ph.actions ?? []) {
      const steps = [...(a.action.startsWith('reset') ? ['reset'] : []), ...(verb[ph.name] ? [verb[ph.name]] : [])];
      if (steps.length) (out[a.host] ??= []).push(...steps);
    }
  }
  return out;
}

describe('kubeadm-ha plan on the local fleet, against what start does', () => {
  const rig = new Rig();
  let f: FleetInfo;
  before(async () => {
    await rig.up();
    f = await rig.fleet({ controlPlanes: 3, workers: 3 });
  });
  after(async () => {
    await sessionPool().closeAll();
    await rig.down();
  });

  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await main([...argv, '--address', rig.server.address], (s) => out.push(s));
    return { code, out: out.join('\n') };
  };
  const plan = async (): Promise<ClusterPlan> => {
    const r = await cli('plan', f.clusterFile, '--json');
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out) as ClusterPlan;
  };
  /** kubeadm's host-changing commands per host since t0, from the hosts' own invocation logs. */
  const ranKubeadm = (t0: number): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const h of f.hosts) {
      const verbs = readInvocations(f.dir, h.name)
        .filter((i) => i.start >= t0 && ['init', 'join', 'reset'].includes(i.argv[0]))
        .map((i) => i.argv[0]);
      if (verbs.length) out[h.name] = verbs;
    }
    return out;
  };
  /** Every file kubeadm and the kubelet keep on each host, hashed: what a plan must not change. */
  const hostFiles = async () => {
    const all: Record<string, string> = {};
    for (const h of f.hosts) {
      all[h.name] = await onHost(
        f,
        h.name,
        '{ find /etc/kubernetes /var/lib/kubelet /var/lib/etcd -type f 2>/dev/null | sort | xargs -r sha256sum; true; } | sha256sum',
      );
    }
    return all;
  };
  /** Plans, checks the plan changed nothing, starts, and compares host by host. */
  const planThenStart = async () => {
    const t0 = Date.now();
    const files = await hostFiles();
    const p = await plan();
    assert.deepEqual(ranKubeadm(t0), {}, 'a plan runs no kubeadm command that changes a host');
    assert.deepEqual(await hostFiles(), files, 'a plan changes no file on any host');
    const t1 = Date.now();
    const start = await cli('start', f.clusterFile, '--auto-approve', 'ops-bot');
    assert.equal(start.code, 0, start.out);
    assert.deepEqual(ranKubeadm(t1), plannedKubeadm(p), 'start ran on each host exactly what the plan said');
    return { p, start };
  };

  it('a fresh fleet: init on cp1, the control planes and workers join; the plan names the gates start asks for', async () => {
    const { p, start } = await planThenStart();
    assert.deepEqual(plannedKubeadm(p), {
      cp1: ['init'],
      cp2: ['join'],
      cp3: ['join'],
      w1: ['join'],
      w2: ['join'],
      w3: ['join'],
    });
    assert.deepEqual(p.gates, ['init', 'joinControlPlanes', 'joinWorkers']);
    for (const g of p.gates) assert.match(start.out, new RegExp(`${g} approved by ops-bot`));
  });

  it('a half-done fleet: the worker whose Node is gone is reset and joins again, as planned; nothing else', async () => {
    await onHost(f, 'cp1', `${KUBECTL} delete node w2`);
    const { p } = await planThenStart();
    assert.deepEqual(plannedKubeadm(p), { w2: ['reset', 'join'] });
    assert.match(p.hosts.find((h) => h.name === 'w2')!.detail!, /kubelet\.conf/);
  });

  it('a finished fleet: nothing to do, said in words, with the same fingerprint twice; start changes nothing', async () => {
    const text = await cli('plan', f.clusterFile);
    assert.equal(text.code, 0, text.out);
    assert.match(text.out, /Nothing to do: the hosts and the cluster already match the cluster file/);
    const fp = /Facts fingerprint: sha256:([0-9a-f]{64})/.exec(text.out)?.[1];
    assert.ok(fp, text.out);
    const { p, start } = await planThenStart();
    assert.equal(p.nothingToDo, true);
    assert.equal(p.fingerprint, fp, 'the same facts, the same fingerprint');
    assert.deepEqual(p.gates, []);
    assert.match(start.out, /Nothing to do/);
  });
});
