// Removing and replacing nodes of a real cluster (the real fleet: containerd, the real kubelet and
// etcd, HAProxy), through the CLI and worker as they ship. A stacked 3+2 cluster is built; then the
// cluster file marks cp3 `remove: true` and adds cp4 (a replacement) while no other member reaches
// cp2's etcd (its ports 2379 and 2380 closed to them): the removal is refused for the quorum and
// parks. Once cp2's etcd is reachable again, a retry removes cp3 through cp1 and cp4 joins in the
// same run, without a check-etcd error. Then a worker whose pod a
// PodDisruptionBudget protects parks at its drain, naming the budget, and is removed once it allows.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { FleetInfo } from '../../fleet';
import { readInvocations } from '../../fleet/invocations';
import { REAL_FLEET_VERSIONS } from '../../fleet/real-kubeadm';
import { main } from '../../src/client/cli';
import { etcdctlCommand, parseMemberList } from '../../src/kubeadm/etcd';
import { KUBECTL } from '../../src/kubeadm/paths';
import { sessionPool } from '../../src/ssh/pool';
import { onHost, Rig } from '../helpers/harness';

const NEWEST = REAL_FLEET_VERSIONS[REAL_FLEET_VERSIONS.length - 1];
type Doc = { controlPlanes: Record<string, unknown>[]; workers: Record<string, unknown>[]; approvals: string[] };
const ETCD_TLS =
  '--cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key';

describe(`removing and replacing nodes of a real ${NEWEST} stacked cluster`, () => {
  const rig = new Rig();
  let fleet: FleetInfo;
  let original: Doc;
  before(async () => {
    await rig.up();
    fleet = await rig.fleet({ controlPlanes: 4, workers: 2, real: true, kubernetesVersion: NEWEST });
    original = parse(readFileSync(fleet.clusterFile, 'utf8')) as Doc;
  });
  after(async () => {
    await sessionPool().closeAll();
    await rig.down();
  });

  /** The fleet's cluster file with `edit` applied, written beside it (its relative paths still hold). */
  const file = (name: string, edit: (doc: Doc) => void): string => {
    const doc = structuredClone(original);
    edit(doc);
    const path = join(dirname(fleet.clusterFile), name);
    writeFileSync(path, stringify(doc));
    return path;
  };
  /** Marks a host for removal; only the removal gate (always asked) is, so that `watch` after a retry needs no approval. */
  const mark = (doc: Doc, list: 'controlPlanes' | 'workers', name: string) => {
    doc[list].find((h) => h.name === name)!.remove = true;
    doc.approvals = [];
  };
  const sh = (host: string, cmd: string) => onHost(fleet, host, cmd);
  const address = (host: string) => fleet.hosts.find((h) => h.name === host)!.address;
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const code = await main([...args, '--address', rig.server.address], (s) => out.push(s));
    return { code, out: out.join('\n') };
  };
  const start = (path: string) => cli(['start', path, '--auto-approve', 'remove test', '--exit-on-park']);
  const members = async () =>
    parseMemberList(await sh('cp1', etcdctlCommand(KUBECTL, 'cp1', ['member', 'list'])))
      .map((m) => m.name)
      .sort();
  // From cp1's own API server: behind the load balancer, cp2's may be the one asked, and without its etcd it cannot answer.
  const nodes = async () =>
    (await sh('cp1', `${KUBECTL} --server=https://${address('cp1')}:6443 get nodes -o name`)).split('\n').sort();
  /** Waits until cp2's etcd answers /health as `healthy` says. */
  const cp2Etcd = (healthy: boolean) =>
    sh(
      'cp1',
      `for i in $(seq 120); do if curl -s --max-time 2 ${ETCD_TLS} https://${address('cp2')}:2379/health | grep -q '"health":"true"'; then ${healthy ? 'exit 0' : ':'}; else ${healthy ? ':' : 'exit 0'}; fi; sleep 1; done; exit 1`,
    );

  it('builds cp1-cp3 and both workers', async () => {
    const r = await start(
      file('three.yaml', (d) => {
        d.controlPlanes = d.controlPlanes.filter((h) => h.name !== 'cp4');
      }),
    );
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(await members(), ['cp1', 'cp2', 'cp3']);
  });

  // cp2 stays a control plane in every other way (its manifests, its Node), as inspection sees it.
  const PARTITION = '-p tcp -m multiport --dports 2379,2380 ! -i lo -j REJECT --reject-with tcp-reset';

  it('refuses to remove cp3 while no other member reaches the etcd of cp2: the run parks with the quorum named, and removes nothing', async () => {
    await sh('cp2', `iptables -I INPUT ${PARTITION}`);
    await cp2Etcd(false);
    const r = await start(file('replace.yaml', (d) => mark(d, 'controlPlanes', 'cp3')));
    assert.equal(r.code, 5, r.out);
    assert.match(
      r.out,
      /cp3 was not removed: removing it would leave 2 members of which only 1 are healthy, below the quorum of 2 \(unhealthy: cp2\)/,
    );
    assert.deepEqual(await members(), ['cp1', 'cp2', 'cp3'], 'no member was removed');
    assert.ok((await nodes()).includes('node/cp3'));
  });

  it('once the etcd of cp2 is reachable again, a retry removes cp3 (member, Node, files) and cp4 joins in the same run', async () => {
    await sh('cp2', `iptables -D INPUT ${PARTITION}`);
    await cp2Etcd(true);
    const since = Date.now();
    const retry = await cli(['retry', fleet.clusterName, 'cp3', '--as', 'remove test']);
    assert.equal(retry.code, 0, retry.out);
    const w = await cli(['watch', fleet.clusterName]);
    assert.equal(w.code, 0, w.out);
    assert.deepEqual(await members(), ['cp1', 'cp2', 'cp4'], 'three members: cp3 out, cp4 in');
    const after = await nodes();
    assert.ok(!after.includes('node/cp3') && after.includes('node/cp4'), after.join(' '));
    assert.equal(
      await sh('cp3', 'ls /etc/kubernetes/*.conf /etc/kubernetes/manifests/*.yaml 2>/dev/null | wc -l'),
      '0',
    );
    const resets = readInvocations(fleet.dir, 'cp3').filter((i) => i.argv[0] === 'reset' && i.start >= since);
    assert.equal(resets.length, 1, 'cp3 reset once');
    const joins = readInvocations(fleet.dir, 'cp4').filter((i) => i.argv[0] === 'join');
    assert.deepEqual(
      joins.map((j) => j.exitCode),
      [0],
      'cp4 joined once, at the first try (no check-etcd error)',
    );
    assert.match(w.out, /take [0-9.]+:6443 out of the load balancer's backends/);
  });

  it('parks a worker whose drain a PodDisruptionBudget blocks, naming it; removes the worker once the budget allows', async () => {
    const pause = await sh('w2', "ctr -n k8s.io images ls -q | grep '/pause:' | head -1");
    // A Deployment's pod (a bare pod stops a drain anyway: kubectl will not delete it without --force).
    const objects = [
      `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"guarded","namespace":"default"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"guarded"}},"template":{"metadata":{"labels":{"app":"guarded"}},"spec":{"nodeSelector":{"kubernetes.io/hostname":"w2"},"containers":[{"name":"pause","image":"${pause}"}]}}}}`,
      '{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"guarded-pdb","namespace":"default"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"guarded"}}}}',
    ];
    for (const o of objects) await sh('cp1', `echo '${o}' | ${KUBECTL} apply -f -`);
    await sh('cp1', `${KUBECTL} rollout status deployment/guarded --timeout=120s`);
    const remove = file('remove-w2.yaml', (d) => {
      mark(d, 'controlPlanes', 'cp3');
      mark(d, 'workers', 'w2');
    });
    const r = await start(remove);
    assert.equal(r.code, 5, r.out);
    assert.match(
      r.out,
      /w2: kubectl drain stopped: PodDisruptionBudget default\/guarded-pdb allows no disruption of default\/guarded-[a-z0-9]+-[a-z0-9]+/,
    );
    assert.ok((await nodes()).includes('node/w2'), 'w2 is still a Node');
    await sh('cp1', `${KUBECTL} delete pdb guarded-pdb -n default`);
    const retry = await cli(['retry', fleet.clusterName, 'w2', '--as', 'remove test']);
    assert.equal(retry.code, 0, retry.out);
    const w = await cli(['watch', fleet.clusterName]);
    assert.equal(w.code, 0, w.out);
    assert.ok(!(await nodes()).includes('node/w2'), 'Node w2 deleted');
    assert.equal(await sh('w2', 'ls /etc/kubernetes/*.conf 2>/dev/null | wc -l'), '0');
  });
});
