// Stacked control planes: etcd's v3 JSON gateway on 2379 (mutual TLS, as kubeadm configures etcd)
// and the fault that stops a control plane's kube-apiserver or etcd (ports refused, exec fails).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetInfo, clearFaults, fleetDown, fleetUp, setFault } from '../../fleet/index';
import { Run, ssh, stackedControlPlanes, waitFor } from './helpers';

const PKI = '/etc/kubernetes/pki';
const KUBECTL = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';
const CLIENT = `--cert ${PKI}/etcd/healthcheck-client.crt --key ${PKI}/etcd/healthcheck-client.key`;
const cli = (...args: string[]): void => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '../../fleet/cli.js'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};

describe('etcd JSON gateway and stopped control-plane components', { timeout: 180000 }, () => {
  let dir = '';
  let info: FleetInfo;
  let [CP1, CP2, LB] = ['', '', ''];
  const root = (command: string): Run => ssh(dir, CP1, command, { user: 'root' });
  /** curl as the orchestrator runs it on cp1; `-w` appends the HTTP status on its own line. */
  const gateway = (address: string, call: string, data = '{}', client = CLIENT): Run =>
    root(
      `curl -sS --max-time 5 -X POST --cacert ${PKI}/etcd/ca.crt ${client} -w '\\n%{http_code}' -d '${data}' https://${address}:2379/v3/cluster/member/${call}`,
    );
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON answer a test stand-in gives
  const answer = (r: Run): [number, any] => {
    const i = r.stdout.lastIndexOf('\n');
    return [Number(r.stdout.slice(i + 1)), JSON.parse(r.stdout.slice(0, i))];
  };
  const exec = (node: string): Run => root(`${KUBECTL} -n kube-system exec etcd-${node} -- etcdctl member list`);
  /** name -> hex ID, as etcdctl's simple printer shows them. */
  const hexIds = (): Record<string, string> => {
    const r = exec('cp1');
    assert.equal(r.code, 0, r.stderr);
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(', '))
        .map((f) => [f[2], f[0]]),
    );
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-components-'));
    info = await fleetUp({ dir, controlPlanes: 2, workers: 0 });
    [CP1, CP2] = info.hosts.map((h) => h.address);
    LB = info.loadBalancer.host;
    stackedControlPlanes(dir, CP1, CP2, LB);
  });

  after(async () => {
    await fleetDown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("member list through the gateway: both members, IDs in decimal equal to etcdctl's hex ones", () => {
    const ids = hexIds();
    assert.deepEqual(Object.keys(ids).sort(), ['cp1', 'cp2']);
    const r = gateway(CP2, 'list');
    assert.equal(r.code, 0, r.stderr);
    const [code, body] = answer(r);
    assert.equal(code, 200);
    assert.match(body.header.cluster_id, /^\d+$/);
    assert.equal(body.header.member_id, BigInt(`0x${ids.cp2}`).toString(), 'the answering member');
    assert.equal(body.header.raft_term, '2');
    assert.deepEqual(
      body.members,
      ['cp1', 'cp2'].map((n) => {
        const a = n === 'cp1' ? CP1 : CP2;
        return {
          ID: BigInt(`0x${ids[n]}`).toString(),
          name: n,
          peerURLs: [`https://${a}:2380`],
          clientURLs: [`https://${a}:2379`],
        };
      }),
    );
  });

  it('needs a client certificate signed by the etcd CA; other paths are 404 with a gRPC status', () => {
    let r = gateway(CP2, 'list', '{}', '');
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /members/);
    r = gateway(
      CP2,
      'list',
      '{}',
      `--cert ${PKI}/apiserver-kubelet-client.crt --key ${PKI}/apiserver-kubelet-client.key`,
    );
    assert.notEqual(r.code, 0, 'a client certificate of the cluster CA');
    r = gateway(CP1, 'status');
    assert.deepEqual(answer(r), [404, { error: 'Not Found', message: 'Not Found', code: 5 }]);
  });

  it('--stop etcd refuses 2379 and fails exec into that etcd pod; --start restores', async () => {
    cli('fault', '--dir', dir, '--host', 'cp2', '--stop', 'etcd');
    const r = await waitFor(
      'cp2:2379 refused',
      () => {
        const x = gateway(CP2, 'list');
        return x.code === 7 && x;
      },
      5000,
    );
    assert.match(r.stderr, /Failed to connect to .* port 2379.*(refused|Couldn't connect)/);
    let x = exec('cp2');
    assert.deepEqual([x.code, x.stderr], [1, 'error: unable to upgrade connection: container not found ("etcd")\n']);
    assert.equal(exec('cp1').code, 0, 'the other member still answers');
    assert.equal(answer(gateway(CP1, 'list'))[0], 200);
    cli('fault', '--dir', dir, '--host', 'cp2', '--start', 'etcd');
    await waitFor('cp2:2379 back', () => gateway(CP2, 'list').code === 0, 5000);
    x = exec('cp2');
    assert.equal(x.code, 0, x.stderr);
  });

  it('--stop kube-apiserver refuses cp1:6443 while the LB routes to cp2; --start restores', async () => {
    const direct = `${KUBECTL} --server=https://${CP1}:6443 get nodes`;
    assert.equal(root(direct).code, 0);
    cli('fault', '--dir', dir, '--host', 'cp1', '--stop', 'kube-apiserver');
    const r = await waitFor(
      'cp1:6443 refused',
      () => {
        const x = root(direct);
        return x.code !== 0 && x;
      },
      5000,
    );
    assert.equal(
      r.stderr,
      `The connection to the server ${CP1}:6443 was refused - did you specify the right host or port?\n`,
    );
    // HAProxy's TCP check (inter 500ms fall 2) takes cp1 out; then every request goes to cp2.
    await new Promise((res) => setTimeout(res, 2000));
    for (let i = 0; i < 4; i++) {
      const x = root(`${KUBECTL} get nodes --no-headers`);
      assert.equal(x.code, 0, x.stderr);
      assert.match(x.stdout, /^cp1 .*\ncp2 /);
    }
    cli('fault', '--dir', dir, '--host', 'cp1', '--start', 'kube-apiserver');
    await waitFor('cp1:6443 back', () => root(direct).code === 0, 5000);
  });

  it('clearFaults starts stopped components again', async () => {
    setFault(dir, { host: 'cp1', component: 'kube-apiserver', state: 'stopped' });
    setFault(dir, { host: 'cp2', component: 'etcd', state: 'stopped' });
    await waitFor(
      'both stopped',
      () => gateway(CP2, 'list').code === 7 && root(`${KUBECTL} --server=https://${CP1}:6443 get nodes`).code !== 0,
      5000,
    );
    clearFaults(dir);
    await waitFor(
      'both running',
      () => gateway(CP2, 'list').code === 0 && root(`${KUBECTL} --server=https://${CP1}:6443 get nodes`).code === 0,
      5000,
    );
  });

  it("member remove through the gateway: the rest answered; an unknown ID is etcd's member-not-found", () => {
    const ids = hexIds();
    const cp2 = BigInt(`0x${ids.cp2}`).toString();
    let [code, body] = answer(gateway(CP1, 'remove', `{"ID":"${cp2}"}`));
    assert.equal(code, 200);
    assert.equal(body.header.member_id, BigInt(`0x${ids.cp1}`).toString());
    assert.deepEqual(
      body.members.map((m: { ID: string; name: string }) => [m.ID, m.name]),
      [[BigInt(`0x${ids.cp1}`).toString(), 'cp1']],
    );
    assert.deepEqual(Object.keys(hexIds()), ['cp1']);
    assert.deepEqual(
      answer(gateway(CP1, 'list'))[1].members.map((m: { name: string }) => m.name),
      ['cp1'],
    );
    [code, body] = answer(gateway(CP1, 'remove', `{"ID":"${cp2}"}`));
    assert.deepEqual(
      [code, body],
      [404, { error: 'etcdserver: member not found', message: 'etcdserver: member not found', code: 5 }],
    );
  });
});
