// writeFile / readFile as root (direct SFTP) and as khatest (SFTP staging + sudo install).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSshd, type Sshd } from '../helpers/sshd';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import type { HostSession } from '../../src/ssh/types';
import { RemoteFileError } from '../../src/ssh/errors';

let d: Sshd;
before(async () => {
  d = await startSshd();
});
after(async () => {
  await d.stop();
});

const open = async (user: string): Promise<HostSession> =>
  openSession(
    await loadTarget(
      { name: 'node1', address: d.host, port: d.port },
      { user, privateKeyFile: d.keyFile, knownHostsFile: d.knownHostsFile },
    ),
  );

for (const who of ['root', 'khatest'] as const) {
  describe(`files as ${who}`, () => {
    let s: HostSession;
    const base = `/tmp/kha-files-${who}-${randomBytes(4).toString('hex')}`;
    const stat = async (p: string) => (await s.run(`stat -c '%a %U %G' ${p}`)).stdout.trim();
    before(async () => {
      s = await open(who);
    });
    after(async () => {
      await s.run(`rm -rf ${base}`);
      await s.close();
    });

    it('writes a 0600 root-owned secret, creating parent dirs', async () => {
      const p = `${base}/pki/etcd/ca.key`;
      await s.writeFile(p, 'SECRET-KEY-DATA\n', { mode: 0o600 });
      assert.equal(await stat(p), '600 root root');
      assert.equal(await stat(`${base}/pki/etcd`), '755 root root');
      assert.equal((await s.run(`cat ${p}`)).stdout, 'SECRET-KEY-DATA\n');
      assert.equal((await s.readFile(p)).toString(), 'SECRET-KEY-DATA\n');
    });

    it('replaces an existing file with the new mode and owner, leaving no temp files', async () => {
      const p = `${base}/conf/kubelet.conf`;
      await s.writeFile(p, 'v1', { mode: 0o600 });
      await s.writeFile(p, 'v2', { mode: 0o640, owner: 'khatest', group: 'khatest' });
      assert.equal(await stat(p), '640 khatest khatest');
      assert.equal((await s.readFile(p)).toString(), 'v2');
      assert.equal((await s.run(`ls -A ${base}/conf`)).stdout, 'kubelet.conf\n');
    });

    it('applies mkdirMode to every directory it creates', async () => {
      const p = `${base}/private/a/b/file`;
      await s.writeFile(p, 'x', { mode: 0o644, mkdirMode: 0o700 });
      assert.equal(await stat(`${base}/private`), '700 root root');
      assert.equal(await stat(`${base}/private/a/b`), '700 root root');
      assert.equal(await stat(p), '644 root root');
    });

    it('round-trips binary content larger than one SFTP packet', async () => {
      const data = randomBytes(300 * 1024);
      const p = `${base}/bin/blob`;
      await s.writeFile(p, data, { mode: 0o600 });
      assert.ok((await s.readFile(p)).equals(data));
    });

    it('reports a missing file as RemoteFileError ENOENT', async () => {
      await assert.rejects(s.readFile(`${base}/nope`), (e: unknown) => {
        assert.ok(e instanceof RemoteFileError);
        assert.equal(e.code, 'ENOENT');
        assert.match(e.message, /host node1 .*nope/);
        return true;
      });
    });

    if (who === 'khatest') {
      it('cannot read a root-only file without sudo, can with sudo', async () => {
        const p = `${base}/pki/etcd/ca.key`;
        await assert.rejects(
          s.readFile(p, { sudo: false }),
          (e: unknown) => e instanceof RemoteFileError && e.code === 'EACCES',
        );
        assert.equal((await s.readFile(p)).toString(), 'SECRET-KEY-DATA\n');
      });

      it('removes its private staging directory', async () => {
        const r = await s.run('ls -A ~khatest | grep kha-stage || true', { sudo: false });
        assert.equal(r.stdout, '');
      });
    }
  });
}
