// The first control plane's activities on the local fleet (real sshd, the stand-in kubeadm), called
// directly: two attempts of one kubeadm init at once (a retry beside an attempt that is still
// running), join tokens whose delete fails, and the certificate key's removal after the joins. Each
// check reads the host or the cluster's state. The tests run in order on one fleet: the first one's
// init makes the cluster the others use.
import '../helpers/file-roots';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { fleetDown, fleetUp, readInvocations, setFault, type FleetInfo } from '../../fleet';
import { readState } from '../../fleet/standins/state';
import { decryptCerts } from '../../fleet/standins/uploadcerts';
import * as activities from '../../src/activities';
import { certificateKey, ensureCertificateKey } from '../../src/activities/certificate-key';
import { tokenSecret } from '../../src/activities/token-secrets';
import { loadClusterFile } from '../../src/config/cluster-file';
import type { ClusterSpec, HostSpec } from '../../src/config/types';
import type { InitConfigInput } from '../../src/kubeadm/config';
import { CERTIFICATE_KEY_FILE, INIT_CONFIG, STATE_DIR, tokenFile } from '../../src/kubeadm/paths';
import { HOST_LOCK } from '../../src/ssh/journal';
import { sessionPool } from '../../src/ssh/pool';
import { openSession } from '../../src/ssh/session';
import { loadTarget } from '../../src/ssh/target';
import type { HostSession } from '../../src/ssh/types';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logs: string[] = [];

describe('first control plane activities on the local fleet', () => {
  let dir = '';
  let fleet: FleetInfo;
  let spec: ClusterSpec;
  let cp1: HostSpec;
  let root: HostSession;
  /** From the init (the first test). */
  let caCertHash = '';
  /** Runs an activity (or code that needs an activity's context) as one attempt would. */
  const act = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
    new MockActivityEnvironment(undefined, {
      logger: new DefaultLogger('INFO', (e) => logs.push(`${e.level} ${e.message}`)),
    }).run(fn, ...args) as Promise<R>;
  /** Runs `cmd` on cp1 as root; fails the test unless it exits 0; its stdout. */
  const sh = async (cmd: string) => {
    const r = await root.run(cmd);
    assert.equal(r.exitCode, 0, `${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  const initConfig = (podSubnet: string): InitConfigInput => ({
    kubernetesVersion: spec.kubernetesVersion,
    nodeName: 'cp1',
    advertiseAddress: cp1.address,
    controlPlaneEndpoint: `${spec.loadBalancer.host}:${spec.loadBalancer.port}`,
    certSANs: [],
    podSubnet,
  });

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    dir = mkdtempSync(join(tmpdir(), 'kha-fcp-'));
    fleet = await fleetUp({ dir, controlPlanes: 2, workers: 0 });
    spec = loadClusterFile(fleet.clusterFile);
    cp1 = spec.controlPlanes[0];
    root = await openSession(await loadTarget(cp1, { ...spec.ssh, user: 'root' }));
  });
  after(async () => {
    await root?.close();
    await sessionPool().closeAll();
    await fleetDown(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('two attempts of one init at once: kubeadm runs once and reads the config and key of the attempt that started it', async () => {
    // Another step holds the host lock (as a running command does) while the attempts start, the
    // second one after the first has put everything it writes outside the journal.
    const holder = root.run(`mkdir -p ${STATE_DIR} && flock -x ${HOST_LOCK} sleep 3`);
    for (let i = 0; (await root.run(`flock -n ${HOST_LOCK} true`)).exitCode === 0; i++) {
      assert.ok(i < 50, 'the test could not take the host lock');
      await sleep(100);
    }
    const attempt = (podSubnet: string) =>
      act(activities.kubeadmInit, {
        host: cp1,
        ssh: spec.ssh,
        stepId: 'fcp.kubeadmInit.cp1.1',
        stacked: true,
        uploadCerts: true,
        config: initConfig(podSubnet),
      });
    const subnets = ['10.244.0.0/16', '10.245.0.0/16'];
    const first = attempt(subnets[0]);
    await sleep(1000);
    const second = attempt(subnets[1]);
    await holder;
    const results = await Promise.all([first, second]);
    caCertHash = results[0].caCertHash;
    const started = results.filter((r) => !r.attached);
    assert.equal(started.length, 1, 'one attempt started the init, the other waited for it');
    assert.equal(readInvocations(dir, 'cp1').filter((i) => i.argv[0] === 'init').length, 1, 'kubeadm init ran once');
    const state = readState(dir);
    assert.equal(
      (state.clusterConfiguration.networking as { podSubnet?: string }).podSubnet,
      subnets[results.indexOf(started[0])],
      'kubeadm read the config of the attempt that started it',
    );
    const key = (await sh(`cat ${CERTIFICATE_KEY_FILE}`)).trim();
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.doesNotThrow(
      () => decryptCerts(key, state.certsSecret!),
      'the uploaded certificates open with the kept key',
    );
    assert.equal(await sh(`stat -c '%a %U' ${CERTIFICATE_KEY_FILE}`), '600 root\n');
    assert.equal(
      await sh(`ls -A ${STATE_DIR} | grep -c kubeadm-config || true`),
      '0\n',
      `${INIT_CONFIG} held the key: it is gone, with every staged copy`,
    );
  });

  it('a token whose delete fails is left to expire, and its secret leaves the host and the worker', async () => {
    const mint = () =>
      act(activities.ensureJoinToken, {
        host: cp1,
        ssh: spec.ssh,
        ttlSeconds: 3600,
        minRemainingSeconds: 600,
        description: 'fcp test',
      });
    const [kept, gone] = [await mint(), await mint()];
    for (const t of [kept, gone]) assert.equal(await sh(`stat -c %a ${tokenFile(t.id)}`), '600\n');
    await sh(`kubeadm token delete ${gone.id}`); // gone from the cluster (as when it expired), its file still here
    setFault(dir, {
      host: 'cp1',
      command: `kubeadm token delete ${kept.id}`,
      mode: 'fail',
      message: `failed to delete bootstrap token with name "bootstrap-token-${kept.id}": Unauthorized`,
    });
    const r = await act(activities.deleteJoinTokens, { host: cp1, ssh: spec.ssh, ids: [kept.id, gone.id] });
    assert.deepEqual(r, { deleted: [gone.id], leftToExpire: [kept.id] });
    assert.equal(await sh(`ls -A ${STATE_DIR}/tokens`), '', 'no token file is left on the host');
    assert.match(
      await sh('kubeadm token list'),
      new RegExp(`^${kept.id}\\.`, 'm'),
      'the token is in the cluster still',
    );
    assert.ok(logs.some((l) => l.startsWith('WARN') && l.includes(`kubeadm token delete ${kept.id} failed`)));
    await assert.rejects(
      act(() => tokenSecret(spec.ssh, cp1, kept.id)),
      /tokens\/[a-z0-9]{6}: .*No such file/,
      'the worker no longer has the secret',
    );
  });

  it('the certificate key removed after the joins: a later upload makes a new one, and a control plane joins with it', async () => {
    const removedKey = (await sh(`cat ${CERTIFICATE_KEY_FILE}`)).trim();
    const remove = () => act(activities.removeCertificateKey, { host: cp1, ssh: spec.ssh });
    assert.equal((await remove()).alreadyDone, false);
    assert.equal(await sh(`test -e ${CERTIFICATE_KEY_FILE} || echo removed`), 'removed\n');
    assert.equal((await remove()).alreadyDone, true, 'a second removal finds none');
    await assert.rejects(
      act(() => certificateKey(spec.ssh, cp1)),
      (err: Error & { type?: string }) => err.type === 'KubeadmMissingSharedCerts',
      'no worker still knows the key',
    );
    await act(activities.uploadCerts, {
      host: cp1,
      ssh: spec.ssh,
      stepId: 'fcp.uploadCerts.cp1.1',
      config: initConfig('10.244.0.0/16'),
    });
    const key = (await sh(`cat ${CERTIFICATE_KEY_FILE}`)).trim();
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.notEqual(key, removedKey, 'a new key');
    assert.doesNotThrow(() => decryptCerts(key, readState(dir).certsSecret!), 'the certificates were uploaded with it');
    assert.equal(await sh(`ls -A ${STATE_DIR} | grep -c kubeadm-config || true`), '0\n');
    const cp2 = spec.controlPlanes[1];
    const j = await act(activities.joinNode, {
      host: cp2,
      ssh: spec.ssh,
      stepId: 'fcp.joinNode.cp2.1',
      role: 'control-plane',
      kubernetesVersion: spec.kubernetesVersion,
      endpoint: `${spec.loadBalancer.host}:${spec.loadBalancer.port}`,
      caCertHash,
      token: await act(activities.ensureJoinToken, {
        host: cp1,
        ssh: spec.ssh,
        ttlSeconds: 3600,
        minRemainingSeconds: 600,
        description: 'fcp test',
      }),
      tokenHost: cp1,
      downloadCerts: true,
    });
    assert.equal(j.detail, 'joined as control-plane');
    assert.equal(readState(dir).nodes.cp2?.role, 'control-plane');
    const ca = await act(() =>
      Promise.all(
        [cp1, cp2].map(async (h) => {
          const s = await openSession(await loadTarget(h, { ...spec.ssh, user: 'root' }));
          try {
            return (await s.run('sha256sum < /etc/kubernetes/pki/ca.key')).stdout;
          } finally {
            await s.close();
          }
        }),
      ),
    );
    assert.equal(ca[0], ca[1], 'cp2 downloaded the CA key cp1 uploaded');
  });

  it('a kept key is read without waiting for the host lock (a retry beside a running init learns it at once)', async () => {
    const kept = (await sh(`cat ${CERTIFICATE_KEY_FILE}`)).trim();
    const holder = root.run(`flock -x ${HOST_LOCK} sleep 3`);
    for (let i = 0; (await root.run(`flock -n ${HOST_LOCK} true`)).exitCode === 0; i++) {
      assert.ok(i < 50, 'the test could not take the host lock');
      await sleep(100);
    }
    const t0 = Date.now();
    const key = await act(async () => {
      const s = await openSession(await loadTarget(cp1, spec.ssh));
      try {
        return await ensureCertificateKey(s);
      } finally {
        await s.close();
      }
    });
    assert.ok(Date.now() - t0 < 2000, `waited ${Date.now() - t0} ms`);
    assert.equal(key, kept);
    await holder;
  });

  it('an upload cancelled while it waits for the host lock stops waiting, and makes no key afterwards', async () => {
    await sh(`rm -f ${CERTIFICATE_KEY_FILE}`);
    const holder = root.run(`flock -x ${HOST_LOCK} sleep 4`);
    for (let i = 0; (await root.run(`flock -n ${HOST_LOCK} true`)).exitCode === 0; i++) {
      assert.ok(i < 50, 'the test could not take the host lock');
      await sleep(100);
    }
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN', () => undefined) });
    const t0 = Date.now();
    const upload = env.run(activities.uploadCerts, {
      host: cp1,
      ssh: spec.ssh,
      stepId: 'fcp.uploadCerts.cp1.cancelled',
      config: initConfig('10.244.0.0/16'),
    });
    await sleep(1000);
    env.cancel();
    await assert.rejects(upload);
    assert.ok(Date.now() - t0 < 3500, `the cancelled upload waited ${Date.now() - t0} ms`);
    await holder;
    await sleep(500);
    assert.equal(
      await sh(`test -e ${CERTIFICATE_KEY_FILE} || echo none`),
      'none\n',
      'no waiter was left to make a key',
    );
    assert.equal(
      readInvocations(dir, 'cp1').filter((i) => i.argv.join(' ').includes('upload-certs') && i.start > t0).length,
      0,
    );
  });

  it('the removal also takes a kubeadm-config.yaml that holds a key (as earlier versions left it), and leaves one without', async () => {
    await sh(`rm -f ${CERTIFICATE_KEY_FILE}`);
    await sh(`printf 'kind: InitConfiguration\\ncertificateKey: ${'0'.repeat(64)}\\n' > ${INIT_CONFIG}`);
    assert.equal((await act(activities.removeCertificateKey, { host: cp1, ssh: spec.ssh })).alreadyDone, false);
    assert.equal(await sh(`test -e ${INIT_CONFIG} || echo removed`), 'removed\n');
    await sh(`printf 'kind: InitConfiguration\\n' > ${INIT_CONFIG}`);
    assert.equal((await act(activities.removeCertificateKey, { host: cp1, ssh: spec.ssh })).alreadyDone, true);
    assert.equal(await sh(`cat ${INIT_CONFIG}`), 'kind: InitConfiguration\n');
  });
});
