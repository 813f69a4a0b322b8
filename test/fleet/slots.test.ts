// Fleets side by side on their own slots, a 500-worker fleet, and cut SSH sessions.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetInfo, fleetDown, fleetUp, lbAddress, setFault, workerAddress } from '../../fleet/index';
import { ssh, sshStart, waitFor } from './helpers';

const connects = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1000 }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
    s.on('timeout', () => (s.destroy(), resolve(false)));
  });

describe('fleets side by side', { timeout: 180000 }, () => {
  const dirs: string[] = [];
  const newDir = (): string => {
    dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), 'kha-slot-')));
    return dirs.at(-1)!;
  };
  after(async () => {
    // Every fleet is taken down, one at a time, even after one fails to go.
    const failed: unknown[] = [];
    for (const d of dirs) await fleetDown(d).catch((e: unknown) => failed.push(e));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    if (failed.length) throw failed[0];
  });

  it('two fleets at once get distinct slots, addresses, host keys, LBs and cluster names; down frees the slot', async () => {
    const [a, b] = [newDir(), newDir()];
    const fa: FleetInfo = await fleetUp({ dir: a, controlPlanes: 1, workers: 1 });
    const fb: FleetInfo = await fleetUp({ dir: b, controlPlanes: 1, workers: 1 });
    assert.notEqual(fa.slot, fb.slot);
    assert.ok(fa.slot >= Number(process.env.KHA_FLEET_FIRST_SLOT ?? 0));
    for (const f of [fa, fb]) {
      assert.deepEqual(
        f.hosts.map((h) => h.address),
        [`198.18.${f.slot}.11`, `127.${f.slot}.20.1`],
      );
      assert.match(
        execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }),
        new RegExp(` ${f.hosts[0].address.replace(/\./g, '\\.')}/32 `),
      );
      assert.equal(f.loadBalancer.host, lbAddress(f.slot));
      assert.equal(f.clusterName, f.slot === 0 ? 'fleet' : `fleet-${f.slot}`);
      assert.match(fs.readFileSync(f.clusterFile, 'utf8'), new RegExp(`^name: ${f.clusterName}\n`));
      assert.equal(JSON.parse(fs.readFileSync(`/run/kubeadm-ha-fleets/${f.slot}`, 'utf8')).dir, f.dir);
      assert.equal(ssh(f.dir, f.hosts[1].address, 'hostname').stdout, 'w1\n');
      assert.ok(await connects(f.loadBalancer.host, 6443), `LB ${f.loadBalancer.host} listens`);
    }
    // Same host names, different host keys: one fleet's known_hosts does not vouch for the other.
    const r = ssh(b, fb.hosts[0].address, 'true', { knownHosts: path.join(a, 'known_hosts') });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Host key verification failed/);
    await assert.rejects(
      fleetUp({ dir: newDir(), controlPlanes: 1, workers: 0, slot: fa.slot }),
      new RegExp(`slot ${fa.slot} is in use by the fleet in ${a}`),
    );
    await fleetDown(a);
    assert.ok(!fs.existsSync(`/run/kubeadm-ha-fleets/${fa.slot}`));
    assert.doesNotMatch(
      execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }),
      new RegExp(` ${fa.hosts[0].address.replace(/\./g, '\\.')}/32 `),
      'down removes its addresses from lo',
    );
    assert.ok(!(await connects(fa.loadBalancer.host, 6443)));
    assert.equal(ssh(b, fb.hosts[0].address, 'hostname').stdout, 'cp1\n', 'the other fleet is untouched');
    const again = await fleetUp({ dir: a, controlPlanes: 1, workers: 0 });
    assert.equal(again.slot, fa.slot, 'the freed slot is the lowest free one again');
  });

  it('a cut drops live SSH sessions while the host keeps accepting new ones', async () => {
    const d = newDir();
    const f = await fleetUp({ dir: d, controlPlanes: 1, workers: 0 });
    const addr = f.hosts[0].address;
    const live = [sshStart(d, addr, 'sleep 60'), sshStart(d, addr, 'sleep 60')];
    await waitFor(
      'both sessions',
      () =>
        fs.readFileSync(path.join(d, 'hosts/cp1/sshd.log'), 'utf8').match(/Starting session: command/g)?.length === 2,
    );
    const t = Date.now();
    setFault(d, { host: 'cp1', cutSsh: true });
    const [first, second] = await Promise.all(live);
    assert.ok(Date.now() - t < 10000, 'sessions end at once, not when their commands end');
    // ssh's exit status when the connection is lost.
    assert.equal(first.code, 255);
    assert.equal(second.code, 255);
    assert.equal(ssh(d, addr, 'hostname').stdout, 'cp1\n');
  });

  it('holds 500 workers, the last on the second /24', async () => {
    const d = newDir();
    const t = Date.now();
    const f = await fleetUp({ dir: d, controlPlanes: 1, workers: 500 });
    console.log(`500-worker fleet up: ${Date.now() - t} ms`);
    const w = f.hosts.filter((h) => h.role === 'worker');
    assert.equal(w.length, 500);
    assert.equal(w[249].address, `127.${f.slot}.20.250`);
    assert.equal(w[250].address, `127.${f.slot}.21.1`);
    assert.equal(w[499].address, workerAddress(f.slot, 500));
    assert.equal(ssh(d, `127.${f.slot}.21.250`, 'hostname').stdout, 'w500\n');
    assert.equal(fs.readFileSync(f.knownHostsFile, 'utf8').trim().split('\n').length, 501);
  });
});
