// ssh.jumpHost and ssh.forwardAgent on the local fleet: a fleet with a bastion (FleetOptions.bastion),
// sessions to a control plane and a worker through it, with the worker's agent forwarded.
import '../helpers/file-roots';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetInfo, fleetDown, fleetUp } from '../../fleet/index';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';

describe('fleet with a bastion', { timeout: 120000 }, () => {
  let dir = '';
  let info: FleetInfo;
  let agent: ChildProcess | undefined;
  const saved = process.env.SSH_AUTH_SOCK;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kha-fleet-bastion-'));
    info = await fleetUp({ dir, controlPlanes: 1, workers: 1, bastion: true });
  });
  after(async () => {
    agent?.kill('SIGTERM');
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
    await fleetDown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const spec = (over: { forwardAgent?: boolean } = {}) => ({
    user: 'kha',
    privateKeyFile: info.privateKeyFile,
    knownHostsFile: info.knownHostsFile,
    jumpHost: { address: info.bastion!.address, port: info.bastion!.port, user: 'kha' },
    ...over,
  });

  it('starts the bastion on its own address, with forwarding allowed, outside the cluster hosts', () => {
    assert.ok(info.bastion);
    assert.equal(info.bastion.address, `127.${info.slot}.31.1`);
    assert.ok(!info.hosts.some((h) => h.name === 'bastion'));
    assert.doesNotMatch(fs.readFileSync(info.clusterFile, 'utf8'), /bastion/);
    assert.match(
      fs.readFileSync(path.join(dir, 'hosts', 'bastion', 'sshd_config'), 'utf8'),
      /^AllowTcpForwarding yes$/m,
    );
    assert.match(
      fs.readFileSync(info.knownHostsFile, 'utf8'),
      new RegExp(`^\\[${info.bastion.address.replace(/\./g, '\\.')}\\]:2222 ssh-ed25519 `, 'm'),
    );
  });

  it('runs commands on a control plane and a worker through the bastion', async () => {
    const log = path.join(dir, 'hosts', 'bastion', 'sshd.log');
    const before = (fs.readFileSync(log, 'utf8').match(/Accepted publickey for kha/g) ?? []).length;
    for (const h of info.hosts) {
      const s = await openSession(await loadTarget(h, spec()));
      try {
        assert.equal((await s.run('hostname')).stdout, `${h.name}\n`);
        assert.equal((await s.run('id -u', { sudo: true })).stdout, '0\n');
      } finally {
        await s.close();
      }
    }
    const afterCount = (fs.readFileSync(log, 'utf8').match(/Accepted publickey for kha/g) ?? []).length;
    assert.equal(afterCount - before, info.hosts.length, 'one bastion login per host session');
  });

  it('forwards the agent to the host through the bastion (ssh -A -J)', async () => {
    const sock = path.join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    execFileSync('ssh-add', [info.privateKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' });
    process.env.SSH_AUTH_SOCK = sock;
    const cp = info.hosts.find((h) => h.role === 'control-plane')!;
    const s = await openSession(await loadTarget(cp, spec({ forwardAgent: true })));
    try {
      const r = await s.run('test -S "$SSH_AUTH_SOCK" && ssh-add -l', { sudo: false });
      assert.equal(r.exitCode, 0, r.stderr);
      const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', info.privateKeyFile]).toString().split(' ')[1];
      assert.ok(r.stdout.includes(fp), r.stdout);
    } finally {
      await s.close();
    }
  });
});
