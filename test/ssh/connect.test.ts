// Connection-phase failures against a real sshd: each must map to the right SshError kind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../helpers/sshd';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import type { SshTarget } from '../../src/ssh/types';
import { SshError, type SshErrorKind } from '../../src/ssh/errors';

let d: Sshd;
before(async () => {
  d = await startSshd();
});
after(async () => {
  await d.stop();
});

function target(
  over: { port?: number; keyFile?: string; knownHostsFile?: string; user?: string } = {},
): Promise<SshTarget> {
  return loadTarget(
    { name: 'cp1', address: d.host, port: over.port ?? d.port },
    {
      user: over.user ?? 'root',
      privateKeyFile: over.keyFile ?? d.keyFile,
      knownHostsFile: over.knownHostsFile ?? d.knownHostsFile,
    },
  );
}

function expectKind(kind: SshErrorKind, retryable: boolean, msg?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof SshError, String(e));
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.retryable, retryable);
    assert.equal(e.host, 'cp1');
    assert.match(e.message, /^host cp1 \(127\.0\.0\.\d+:\d+\): /);
    if (msg) assert.match(e.message, msg);
    return true;
  };
}

function newKey(name: string): string {
  const f = join(d.dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f], { stdio: 'pipe' });
  return f;
}

describe('connect', () => {
  it('connects with a hashed known_hosts entry', async () => {
    const kh = join(d.dir, 'known_hosts_hashed');
    copyFileSync(d.knownHostsFile, kh);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh], { stdio: 'pipe' });
    assert.match(readFileSync(kh, 'utf8'), /^\|1\|/);
    const s = await openSession(await target({ knownHostsFile: kh }));
    assert.equal((await s.run('echo ok')).stdout, 'ok\n');
    await s.close();
  });

  it('host key mismatch is non-retryable and names the known_hosts file', async () => {
    const other = readFileSync(`${newKey('other_host_key')}.pub`, 'utf8')
      .split(' ')
      .slice(0, 2)
      .join(' ');
    const kh = join(d.dir, 'known_hosts_wrong');
    writeFileSync(kh, `[${d.host}]:${d.port} ${other}\n`);
    await assert.rejects(
      openSession(await target({ knownHostsFile: kh })),
      expectKind('host-key-mismatch', false, new RegExp(`does not match known_hosts file ${kh}.*update`)),
    );
  });

  it('unknown host is refused without trust on first use', async () => {
    const kh = join(d.dir, 'known_hosts_other_port');
    writeFileSync(kh, readFileSync(d.knownHostsFile, 'utf8').replace(`]:${d.port} `, `]:${d.port + 1} `));
    await assert.rejects(
      openSession(await target({ knownHostsFile: kh })),
      expectKind('unknown-host', false, /known_hosts file .* add it/),
    );
  });

  it('wrong client key is auth-failed, non-retryable', async () => {
    await assert.rejects(
      openSession(await target({ keyFile: newKey('wrong_client_key') })),
      expectKind('auth-failed', false, /user root/),
    );
  });

  it('a key file readable by others is refused with chmod advice', async () => {
    const k = join(d.dir, 'loose_key');
    copyFileSync(d.keyFile, k);
    chmodSync(k, 0o644);
    await assert.rejects(target({ keyFile: k }), expectKind('bad-private-key', false, new RegExp(`${k}.*chmod 600`)));
  });

  it('a key file that is not a key is bad-private-key', async () => {
    const k = join(d.dir, 'garbage_key');
    writeFileSync(k, 'not a key\n', { mode: 0o600 });
    await assert.rejects(target({ keyFile: k }), expectKind('bad-private-key', false));
  });

  it('connection refused is unreachable and retryable', async () => {
    const port = d.port + 7;
    const kh = join(d.dir, 'known_hosts_refused');
    writeFileSync(kh, readFileSync(d.knownHostsFile, 'utf8').replace(`]:${d.port} `, `]:${port} `));
    await assert.rejects(
      openSession(await target({ port, knownHostsFile: kh })),
      expectKind('unreachable', true, /ECONNREFUSED/),
    );
  });

  it('a silent server gives handshake-timeout (retryable)', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, d.host, r));
    const port = (silent.address() as { port: number }).port;
    const kh = join(d.dir, 'known_hosts_silent');
    writeFileSync(kh, readFileSync(d.knownHostsFile, 'utf8').replace(`]:${d.port} `, `]:${port} `));
    try {
      await assert.rejects(
        openSession(await target({ port, knownHostsFile: kh }), { readyTimeoutMs: 500 }),
        expectKind('handshake-timeout', true),
      );
    } finally {
      silent.close();
      // close() waits for open sockets; ssh2 destroyed its side already.
    }
  });

  it('abort during connect rejects with aborted', async () => {
    const ac = new AbortController();
    const p = openSession(await target(), { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, expectKind('aborted', true));
  });

  it('a dropped connection fails the running command and the session, without crashing', async () => {
    const s = await openSession(await target());
    // Kill this connection's sshd process: parent of the wrapper shell that is our parent.
    await assert.rejects(
      s.run('kill -KILL $(ps -o ppid= -p $PPID); sleep 5'),
      expectKind('connection-lost', true, /outcome is unknown/),
    );
    await assert.rejects(s.run('true'), expectKind('connection-lost', true));
    await s.close();
  });
});
