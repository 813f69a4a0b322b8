// SSH trust against real sshd's: a changed host key refused with both fingerprints, accept-new
// recording a first-seen host (and then refusing a change), a session through a jump host, and
// agent forwarding (ssh -A) checked with ssh-add -l on the host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../helpers/sshd';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import { SshError, type SshErrorKind } from '../../src/ssh/errors';

let d: Sshd;
let bastion: Sshd;
before(async () => {
  [d, bastion] = await Promise.all([startSshd(), startSshd()]);
});
after(async () => {
  await Promise.all([d.stop(), bastion.stop()]);
});

const fp = (pubFile: string) =>
  execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile]).toString().split(' ')[1];
const hostPub = (s: Sshd) => join(s.dir, 'ssh_host_ed25519_key.pub');

function otherKeyLine(s: Sshd, name: string): string {
  const f = join(s.dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f], { stdio: 'pipe' });
  return readFileSync(`${f}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
}

function rejectsWith(kind: SshErrorKind, ...msgs: RegExp[]) {
  return (e: unknown) => {
    assert.ok(e instanceof SshError, String(e));
    assert.equal(e.kind, kind, e.message);
    for (const m of msgs) assert.match(e.message, m);
    return true;
  };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('host key policies', () => {
  it('a changed key is refused, naming the host, both SHA256 fingerprints and the line to fix', async () => {
    const kh = join(d.dir, 'known_hosts_changed');
    const other = otherKeyLine(d, 'rebuilt_host_key');
    writeFileSync(kh, `# first line\n[${d.host}]:${d.port} ${other}\n`);
    for (const policy of ['strict', 'accept-new'] as const) {
      const t = await loadTarget(
        { name: 'cp1', address: d.host, port: d.port },
        { user: 'root', privateKeyFile: d.keyFile, knownHostsFile: kh, hostKeyPolicy: policy },
      );
      await assert.rejects(
        openSession(t),
        rejectsWith(
          'host-key-mismatch',
          new RegExp(
            `^host cp1 \\(${esc(d.host)}:${d.port}\\): host key for \\[${esc(d.host)}\\]:${d.port} does not match known_hosts file ${esc(kh)}: it has CHANGED`,
          ),
          new RegExp(`Expected ${esc(fp(join(d.dir, 'rebuilt_host_key.pub')))} \\(ssh-ed25519, line 2\\)`),
          new RegExp(`the host presented ${esc(fp(hostPub(d)))} \\(ssh-ed25519\\)`),
          new RegExp(
            `update line 2 of ${esc(kh)} \\(ssh-keygen -R '\\[${esc(d.host)}\\]:${d.port}' -f '${esc(kh)}' removes it\\)`,
          ),
        ),
      );
    }
    assert.equal(
      readFileSync(kh, 'utf8'),
      `# first line\n[${d.host}]:${d.port} ${other}\n`,
      'accept-new never rewrites a recorded key',
    );
  });

  it('strict (the default) refuses an unknown host and records nothing', async () => {
    const kh = join(d.dir, 'known_hosts_empty');
    writeFileSync(kh, '');
    const t = await loadTarget(
      { name: 'cp1', address: d.host, port: d.port },
      { user: 'root', privateKeyFile: d.keyFile, knownHostsFile: kh },
    );
    assert.equal(t.hostKeyPolicy, 'strict');
    await assert.rejects(openSession(t), rejectsWith('unknown-host', /accept-new/));
    assert.equal(readFileSync(kh, 'utf8'), '');
  });

  it('accept-new records an unknown host (as ssh-keyscan writes it), then connects with it and refuses a change', async () => {
    const kh = join(d.dir, 'known_hosts_new');
    writeFileSync(kh, `${otherKeyLine(d, 'unrelated')}`.replace(/^/, 'other.example.com '), { mode: 0o644 });
    const spec = { user: 'root', privateKeyFile: d.keyFile, knownHostsFile: kh, hostKeyPolicy: 'accept-new' as const };
    const t = await loadTarget({ name: 'cp1', address: d.host, port: d.port }, spec);
    // Parallel activities connecting at once: one line only.
    const sessions = await Promise.all([openSession(t), openSession(t), openSession(t)]);
    for (const s of sessions) {
      assert.equal((await s.run('echo ok')).stdout, 'ok\n');
      await s.close();
    }
    const lines = readFileSync(kh, 'utf8').split('\n');
    const pub = readFileSync(hostPub(d), 'utf8').split(' ').slice(0, 2).join(' ');
    assert.deepEqual(lines.slice(1), [`[${d.host}]:${d.port} ${pub}`, '']);
    assert.equal(statSync(kh).mode & 0o777, 0o644, 'file mode kept');
    const keyscan = execFileSync('ssh-keyscan', ['-t', 'ed25519', '-p', String(d.port), d.host], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    assert.equal(lines[1], keyscan);
    const again = await openSession(await loadTarget({ name: 'cp1', address: d.host, port: d.port }, spec));
    await again.close();
    assert.equal(readFileSync(kh, 'utf8').split('\n').length, 3, 'a known host is not appended again');
    // Now the host "changes" its key: the recorded one no longer matches.
    writeFileSync(kh, readFileSync(kh, 'utf8').replace(pub, otherKeyLine(d, 'changed_later')));
    await assert.rejects(
      openSession(await loadTarget({ name: 'cp1', address: d.host, port: d.port }, spec)),
      rejectsWith(
        'host-key-mismatch',
        new RegExp(`presented ${esc(fp(hostPub(d)))}`),
        new RegExp(`Expected ${esc(fp(join(d.dir, 'changed_later.pub')))}`),
      ),
    );
  });

  it('accept-new creates a missing known_hosts file 0600', async () => {
    const kh = join(d.dir, 'known_hosts_missing');
    const s = await openSession(
      await loadTarget(
        { name: 'cp1', address: d.host, port: d.port },
        { user: 'root', privateKeyFile: d.keyFile, knownHostsFile: kh, hostKeyPolicy: 'accept-new' },
      ),
    );
    await s.close();
    assert.equal(statSync(kh).mode & 0o777, 0o600);
    assert.match(readFileSync(kh, 'utf8'), new RegExp(`^\\[${esc(d.host)}\\]:${d.port} ssh-ed25519 `));
  });
});

describe('jump host', () => {
  let kh: string;
  before(() => {
    // One client key for both (as in a cluster file): authorise d's key on the bastion too.
    appendFileSync(join(bastion.dir, 'authorized_keys'), readFileSync(`${d.keyFile}.pub`));
    kh = join(d.dir, 'known_hosts_jump');
    writeFileSync(kh, readFileSync(d.knownHostsFile, 'utf8') + readFileSync(bastion.knownHostsFile, 'utf8'));
  });
  const accepted = (s: Sshd) => (s.log().match(/Accepted publickey for root/g) ?? []).length;

  it('runs a command on the target through the bastion (direct-tcpip, ssh2 sock)', async () => {
    const [b0, t0] = [accepted(bastion), accepted(d)];
    const t = await loadTarget(
      { name: 'cp1', address: d.host, port: d.port },
      {
        user: 'root',
        privateKeyFile: d.keyFile,
        knownHostsFile: kh,
        jumpHost: { address: bastion.host, port: bastion.port, user: 'root' },
      },
    );
    const s = await openSession(t);
    try {
      // sshd puts the address the client dialled in SSH_CONNECTION's third field.
      const r = await s.run('echo "$SSH_CONNECTION"; cat /proc/$PPID/stat >/dev/null && echo ran');
      assert.equal(r.exitCode, 0);
      assert.match(r.stdout, new RegExp(`^\\S+ \\d+ ${esc(d.host)} ${d.port}\\nran\\n$`));
      assert.equal((await s.readFile('/etc/hostname')).length > 0, true, 'SFTP over the jumped connection');
    } finally {
      await s.close();
    }
    assert.equal(accepted(bastion), b0 + 1, 'one login on the bastion');
    assert.equal(accepted(d), t0 + 1, 'one login on the target');
  });

  it("the bastion's host key is checked by the same policy", async () => {
    const kh2 = join(d.dir, 'known_hosts_jump_only_target');
    writeFileSync(kh2, readFileSync(d.knownHostsFile, 'utf8'));
    const t = await loadTarget(
      { name: 'cp1', address: d.host, port: d.port },
      {
        user: 'root',
        privateKeyFile: d.keyFile,
        knownHostsFile: kh2,
        jumpHost: { address: bastion.host, port: bastion.port, user: 'root' },
      },
    );
    await assert.rejects(
      openSession(t),
      rejectsWith(
        'unknown-host',
        new RegExp(
          `^host cp1 .*via jump host root@${esc(bastion.host)}:${bastion.port}: .*no usable host key for \\[${esc(bastion.host)}\\]:${bastion.port}`,
        ),
      ),
    );
  });

  it('a bastion that refuses TCP forwarding gives unreachable with advice', async () => {
    const closed = await startSshd({ extraConfig: ['AllowTcpForwarding no'] });
    try {
      appendFileSync(join(closed.dir, 'authorized_keys'), readFileSync(`${d.keyFile}.pub`));
      const kh3 = join(d.dir, 'known_hosts_jump_closed');
      writeFileSync(kh3, readFileSync(d.knownHostsFile, 'utf8') + readFileSync(closed.knownHostsFile, 'utf8'));
      const t = await loadTarget(
        { name: 'cp1', address: d.host, port: d.port },
        {
          user: 'root',
          privateKeyFile: d.keyFile,
          knownHostsFile: kh3,
          jumpHost: { address: closed.host, port: closed.port, user: 'root' },
        },
      );
      await assert.rejects(
        openSession(t),
        rejectsWith('unreachable', /cannot open a connection to .*AllowTcpForwarding/),
      );
    } finally {
      await closed.stop();
    }
  });
});

describe('agent forwarding', () => {
  let agent: ChildProcess;
  let sock: string;
  const saved = process.env.SSH_AUTH_SOCK;
  before(async () => {
    sock = join(d.dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    execFileSync('ssh-add', [d.keyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' });
  });
  after(() => {
    agent.kill('SIGTERM');
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
  });

  it('forwardAgent: SSH_AUTH_SOCK is set on the host and ssh-add -l there lists the key', async () => {
    process.env.SSH_AUTH_SOCK = sock;
    const s = await openSession(
      await loadTarget(
        { name: 'cp1', address: d.host, port: d.port },
        { user: 'root', privateKeyFile: d.keyFile, knownHostsFile: d.knownHostsFile, forwardAgent: true },
      ),
    );
    try {
      const r = await s.run('echo "sock=$SSH_AUTH_SOCK"; ssh-add -l');
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /^sock=\/tmp\/ssh-[^/]+\/agent\.\d+\n/);
      assert.ok(r.stdout.includes(fp(`${d.keyFile}.pub`)), r.stdout);
      // Every command channel gets it, also parallel ones.
      const rs = await Promise.all([1, 2, 3].map(() => s.run('ssh-add -l >/dev/null && echo ok')));
      assert.deepEqual(
        rs.map((x) => x.stdout),
        ['ok\n', 'ok\n', 'ok\n'],
      );
    } finally {
      await s.close();
    }
  });

  it('without forwardAgent the host sees no agent', async () => {
    process.env.SSH_AUTH_SOCK = sock;
    const s = await openSession(
      await loadTarget(
        { name: 'cp1', address: d.host, port: d.port },
        { user: 'root', privateKeyFile: d.keyFile, knownHostsFile: d.knownHostsFile },
      ),
    );
    try {
      assert.equal((await s.run('echo "sock=$SSH_AUTH_SOCK"')).stdout, 'sock=\n');
    } finally {
      await s.close();
    }
  });

  it('forwardAgent without an agent on the worker is refused before connecting', async () => {
    delete process.env.SSH_AUTH_SOCK;
    const t = await loadTarget(
      { name: 'cp1', address: d.host, port: d.port },
      { user: 'root', privateKeyFile: d.keyFile, knownHostsFile: d.knownHostsFile, forwardAgent: true },
    );
    await assert.rejects(openSession(t), rejectsWith('auth-failed', /SSH_AUTH_SOCK/));
  });

  it('a host that refuses agent forwarding fails the command with advice, not as a lost connection', async () => {
    const closed = await startSshd({ extraConfig: ['AllowAgentForwarding no'] });
    process.env.SSH_AUTH_SOCK = sock;
    try {
      const s = await openSession(
        await loadTarget(
          { name: 'cp1', address: closed.host, port: closed.port },
          { user: 'root', privateKeyFile: closed.keyFile, knownHostsFile: closed.knownHostsFile, forwardAgent: true },
        ),
      );
      try {
        await assert.rejects(s.run('true'), rejectsWith('channel-open-failed', /AllowAgentForwarding/));
      } finally {
        await s.close();
      }
    } finally {
      await closed.stop();
    }
  });
});
