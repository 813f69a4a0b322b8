// The worker reads the files a run names only inside the folders its operator allowed; a symlink
// cannot lead out, and the SSH private key and the payload key are never content for a host.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { KEY_FILE_ENV } from '../../src/codec/keys';
import { parseWorkerArgs } from '../../src/worker';
import { FileRootsError, readWorkerFile, resolveFileRoots, setFileRoots } from '../../src/worker-files';

const base = mkdtempSync(join(tmpdir(), 'kha-roots-'));
const allowed = join(base, 'allowed');
const outside = join(base, 'outside');
mkdirSync(allowed);
mkdirSync(outside);
writeFileSync(join(allowed, 'flannel.yaml'), 'kind: ConfigMap\n');
writeFileSync(join(outside, 'secret'), 'not for runs\n');
writeFileSync(join(allowed, 'id_ed25519'), 'KEY\n', { mode: 0o600 });
symlinkSync(join(outside, 'secret'), join(allowed, 'link-out'));
symlinkSync(join(allowed, 'flannel.yaml'), join(allowed, 'link-in'));
symlinkSync(outside, join(allowed, 'dir-out'));
after(() => rmSync(base, { recursive: true, force: true }));

const refusedWith = (re: RegExp) => (e: unknown) =>
  e instanceof ApplicationFailure && e.type === 'LocalFileRefused' && e.nonRetryable === true && re.test(e.message);

describe('the worker file roots', () => {
  it('reads a file inside the roots, through a symlink that stays inside', async () => {
    setFileRoots(resolveFileRoots(allowed));
    assert.equal((await readWorkerFile(join(allowed, 'flannel.yaml'), 'cni.manifest')).toString(), 'kind: ConfigMap\n');
    assert.equal((await readWorkerFile(join(allowed, 'link-in'), 'cni.manifest')).toString(), 'kind: ConfigMap\n');
  });

  it('refuses a path outside, or a symlink (file or folder) that leads out, naming the field and the path', async () => {
    setFileRoots(resolveFileRoots(allowed));
    await assert.rejects(
      readWorkerFile(join(outside, 'secret'), 'cni.manifest'),
      refusedWith(
        /^cni\.manifest: .*outside\/secret is outside the folders this worker reads files from \(.*allowed\); its operator can allow more with --file-roots or KUBEADM_HA_FILE_ROOTS/,
      ),
    );
    await assert.rejects(
      readWorkerFile(join(allowed, 'link-out'), 'etcd.keyFile'),
      refusedWith(/^etcd\.keyFile: .*allowed\/link-out \(it leads to .*outside\/secret\) is outside/),
    );
    await assert.rejects(
      readWorkerFile(join(allowed, 'dir-out', 'secret'), 'cni.manifest'),
      refusedWith(/it leads to .*outside\/secret/),
    );
    await assert.rejects(readWorkerFile('/proc/self/environ', 'cni.manifest'), refusedWith(/is outside/));
    await assert.rejects(readWorkerFile('relative/x', 'cni.manifest'), refusedWith(/is not an absolute path/));
  });

  it('never sends the SSH private key or the payload key file to a host', async () => {
    setFileRoots(resolveFileRoots(allowed));
    const key = join(allowed, 'id_ed25519');
    assert.equal((await readWorkerFile(key, 'ssh.privateKeyFile')).toString(), 'KEY\n', 'the worker itself reads it');
    await assert.rejects(
      readWorkerFile(key, 'cni.manifest', { privateKeyFile: key }),
      refusedWith(/^cni\.manifest: .*id_ed25519 is the worker's SSH private key, which is never sent to a host/),
    );
    const codecKey = join(allowed, 'codec.key');
    writeFileSync(codecKey, 'k1 x\n', { mode: 0o600 });
    const saved = process.env[KEY_FILE_ENV];
    process.env[KEY_FILE_ENV] = join(allowed, 'link-codec');
    symlinkSync(codecKey, join(allowed, 'link-codec'));
    try {
      await assert.rejects(
        readWorkerFile(codecKey, 'etcd.caFile', { privateKeyFile: key }),
        refusedWith(/is the payload key file, which is never sent to a host/),
      );
    } finally {
      process.env[KEY_FILE_ENV] = saved;
    }
  });

  it('takes --file-roots or KUBEADM_HA_FILE_ROOTS; / and relative or missing folders are refused; the default is home and the working folder', () => {
    assert.deepEqual(parseWorkerArgs(['--file-roots', `${allowed}:${outside}`], {}).fileRoots, [allowed, outside]);
    assert.deepEqual(parseWorkerArgs([`--file-roots=${allowed}`], { KUBEADM_HA_FILE_ROOTS: outside }).fileRoots, [
      allowed,
    ]);
    assert.deepEqual(parseWorkerArgs([], { KUBEADM_HA_FILE_ROOTS: outside }).fileRoots, [outside]);
    assert.throws(() => parseWorkerArgs(['--bogus'], {}), /Unknown option '--bogus'; the worker takes --file-roots/);
    assert.throws(
      () => resolveFileRoots('/'),
      (e: unknown) => e instanceof FileRootsError && /would let a run read every file/.test(e.message),
    );
    assert.throws(() => resolveFileRoots('etc'), /"etc" is not an absolute path/);
    assert.throws(() => resolveFileRoots(join(base, 'nope')), /nope: ENOENT/);
    assert.deepEqual(resolveFileRoots(undefined, allowed, outside), [outside, allowed]);
    assert.deepEqual(
      resolveFileRoots(undefined, '/', outside),
      [outside],
      'a worker started in / does not open the whole disk',
    );
  });
});
