// The procedure end to end for each topology, certificate mode and the oldest and newest
// Kubernetes versions: real Temporal dev server, real worker and activities, the CLI with
// automatic approvals, and the local fleet (real sshd, HAProxy, real etcd for external etcd).
// Each run is checked on the hosts, and its history and logs are searched for its secrets.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { readInvocations, type FleetInfo, type FleetOptions } from '../../fleet';
import { readState, type CertsSecret } from '../../fleet/standins/state';
import { decryptCerts } from '../../fleet/standins/uploadcerts';
import * as activities from '../../src/activities';
import { activityWorkerOptions } from '../../src/activities/worker-options';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import type { HostSpec } from '../../src/config/types';
import { shellQuote } from '../../src/common/shell-quote';
import { etcdMemberCommand, kubeletEtcdFiles, renderEtcdMemberConfig } from '../../src/kubeadm/external-etcd';
import { TASK_QUEUE, workflowIdFor } from '../../src/shared/definitions';
import { sessionPool } from '../../src/ssh/pool';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import type { HostSession } from '../../src/ssh/types';
import { assertClusterBuilt, Rig } from '../helpers/harness';
import { historyText, storedPayloads } from '../helpers/history';
import { quietRuntime, startDevServer, TEMPORAL_CLI, workflowBundle, workerDataConverter } from '../helpers/temporal';

const TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/;
const SECRET_PEM = /PRIVATE KEY-----\s*[A-Za-z0-9+/]/;

/** etcdctl v3 on an etcd host, with that member's healthcheck-client certificate. */
const etcdctl = (fleet: FleetInfo, args: string) => {
  const eps = fleet.hosts
    .filter((h) => h.role === 'etcd')
    .map((h) => `https://${h.address}:2379`)
    .join(',');
  return `sudo -n env ETCDCTL_API=3 etcdctl --endpoints=${eps} --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key ${args}`;
};

/** The cluster's data is in the external etcd: one Node object per node under /registry/minions. */
async function assertNodesInEtcd(fleet: FleetInfo, sh: (host: string, cmd: string) => Promise<string>) {
  const keys = (await sh('etcd1', etcdctl(fleet, 'get /registry/minions --prefix --keys-only')))
    .split('\n')
    .filter(Boolean)
    .sort();
  assert.deepEqual(
    keys,
    fleet.hosts
      .filter((h) => h.role !== 'etcd')
      .map((h) => `/registry/minions/${h.name}`)
      .sort(),
  );
}

/**
 * An etcd cluster that runs before kubeadm-ha is asked to use it, made by hand on the fleet's etcd
 * hosts as kubeadm's HA etcd guide does; its CA and an apiserver-etcd-client pair go to local files.
 */
async function existingEtcd(fleet: FleetInfo): Promise<Record<string, unknown>> {
  const etcdHosts = fleet.hosts
    .filter((h) => h.role === 'etcd')
    .map((h) => ({ name: h.name, address: h.address, port: h.port }));
  const spec = loadClusterFile(fleet.clusterFile);
  const run = async (host: HostSpec, cmd: string, input?: string) => {
    const s = await openSession(await loadTarget(host, spec.ssh));
    try {
      const r = await s.run(cmd, input === undefined ? {} : { stdin: input });
      assert.equal(r.exitCode, 0, `${host.name}: ${cmd}: ${r.stderr}`);
      return r.stdout;
    } finally {
      await s.close();
    }
  };
  let ca = '';
  for (const [i, h] of etcdHosts.entries()) {
    const config = renderEtcdMemberConfig(fleet.kubernetesVersion, h, etcdHosts);
    const files = [...kubeletEtcdFiles(), { path: '/root/kubeadmcfg.yaml', content: config }];
    for (const f of files)
      await run(h, `sudo -n mkdir -p $(dirname ${f.path}) && sudo -n tee ${f.path} >/dev/null`, f.content);
    if (i === 0) {
      await run(h, 'sudo -n kubeadm init phase certs etcd-ca');
      ca = await run(h, 'sudo -n tar -C /etc/kubernetes/pki -cf - etcd/ca.crt etcd/ca.key | base64 -w0');
    } else {
      await run(h, 'sudo -n mkdir -p /etc/kubernetes/pki && base64 -d | sudo -n tar -C /etc/kubernetes/pki -xf -', ca);
    }
    await run(h, `sudo -n sh -c ${shellQuote(etcdMemberCommand('/root/kubeadmcfg.yaml'))}`);
  }
  const local = (name: string, content: string, mode: number) => {
    const file = join(fleet.dir, name);
    writeFileSync(file, content, { mode });
    return file;
  };
  const read = (path: string) => run(etcdHosts[0], `sudo -n cat ${path}`);
  return {
    endpoints: etcdHosts.map((h) => `https://${h.address}:2379`),
    caFile: local('etcd-ca.crt', await read('/etc/kubernetes/pki/etcd/ca.crt'), 0o644),
    certFile: local('etcd-client.crt', await read('/etc/kubernetes/pki/apiserver-etcd-client.crt'), 0o644),
    keyFile: local('etcd-client.key', await read('/etc/kubernetes/pki/apiserver-etcd-client.key'), 0o600),
  };
}

/** Whether some 64 hex digits in `text` are the key that encrypted `secret` (the kubeadm-certs Secret). */
function opensCertsSecret(secret: CertsSecret, text: string): boolean {
  for (const m of text.matchAll(/[0-9a-f]{64,}/g))
    for (let i = 0; i + 64 <= m[0].length; i++) {
      try {
        decryptCerts(m[0].slice(i, i + 64), secret);
        return true;
      } catch {
        // not the key
      }
    }
  return false;
}

interface Case {
  title: string;
  fleet: Omit<FleetOptions, 'dir'>;
  /** Changes to the fleet's cluster file. */
  file?: Record<string, unknown> | ((fleet: FleetInfo) => Promise<Record<string, unknown>>);
  /** What this case must show on the hosts, beyond a built cluster. */
  check(fleet: FleetInfo, sh: (host: string, cmd: string) => Promise<string>): Promise<void>;
}

const initArgv = (fleet: FleetInfo) =>
  readInvocations(fleet.dir, 'cp1')
    .filter((i) => i.argv[0] === 'init' && i.exitCode === 0)
    .map((i) => i.argv.join(' '));
const configApi = (sh: (host: string, cmd: string) => Promise<string>) =>
  sh('cp1', 'sudo -n grep -m1 ^apiVersion: /var/lib/kubeadm-ha/kubeadm-config.yaml');
const sameFile = async (sh: (host: string, cmd: string) => Promise<string>, hosts: string[], file: string) =>
  assert.equal(
    new Set(await Promise.all(hosts.map(async (h) => (await sh(h, `sudo -n sha256sum ${file}`)).split(' ')[0]))).size,
    1,
    `${file} is the same on ${hosts.join(', ')}`,
  );

const CASES: Case[] = [
  {
    title: 'external etcd built by kubeadm-ha on three real etcd members, certificates copied',
    fleet: { controlPlanes: 2, workers: 1, etcdHosts: 3 },
    async check(fleet, sh) {
      const health = await sh('etcd1', `${etcdctl(fleet, 'endpoint health')} 2>&1`);
      assert.equal(health.match(/is healthy: successfully committed proposal/g)?.length, 3, health);
      const members = (await sh('etcd2', etcdctl(fleet, 'member list'))).split('\n');
      assert.deepEqual(members.map((m) => m.split(', ').slice(1, 3).join(' ')).sort(), [
        'started etcd1',
        'started etcd2',
        'started etcd3',
      ]);
      await assertNodesInEtcd(fleet, sh);
      for (const h of ['etcd1', 'etcd2', 'etcd3']) {
        assert.equal(
          await sh(
            h,
            'sudo -n openssl verify -CAfile /etc/kubernetes/pki/etcd/ca.crt /etc/kubernetes/pki/etcd/server.crt /etc/kubernetes/pki/etcd/peer.crt | grep -c ": OK$"',
          ),
          '2',
        );
      }
      await sameFile(sh, ['etcd1', 'etcd2', 'etcd3', 'cp1', 'cp2'], '/etc/kubernetes/pki/etcd/ca.crt');
      await sameFile(sh, ['cp1', 'cp2'], '/etc/kubernetes/pki/apiserver-etcd-client.key');
      for (const cp of ['cp1', 'cp2']) {
        await sh(cp, 'test ! -e /etc/kubernetes/pki/etcd/ca.key && test ! -e /etc/kubernetes/manifests/etcd.yaml');
        assert.match(
          await sh(cp, 'sudo -n grep -- --etcd-servers= /etc/kubernetes/manifests/kube-apiserver.yaml'),
          new RegExp(
            `--etcd-servers=https://${fleet.hosts.find((h) => h.name === 'etcd1')!.address.replace(/\./g, '\\.')}:2379,`,
          ),
        );
      }
      assert.match(
        await sh('cp1', 'sudo -n cat /var/lib/kubeadm-ha/kubeadm-config.yaml'),
        /etcd:\n  external:\n    endpoints:\n      - https:\/\/[\d.]+:2379\n      - https:/,
      );
    },
  },
  {
    title: 'external etcd that already runs (endpoints and client files from the cluster file), certificates uploaded',
    fleet: { controlPlanes: 2, workers: 1, etcdHosts: 3 },
    file: async (fleet) => ({ certificates: 'upload', etcd: await existingEtcd(fleet) }),
    async check(fleet, sh) {
      await assertNodesInEtcd(fleet, sh);
      assert.deepEqual(initArgv(fleet), ['init --config /var/lib/kubeadm-ha/kubeadm-config.yaml --upload-certs']);
      assert.equal(
        await sh('cp1', 'sudo -n sha256sum /etc/kubernetes/pki/apiserver-etcd-client.key').then((l) => l.split(' ')[0]),
        createHash('sha256')
          .update(readFileSync(join(fleet.dir, 'etcd-client.key')))
          .digest('hex'),
        "the operator's client key, installed on cp1",
      );
      assert.equal(
        await sh('cp1', 'sudo -n stat -c "%a %U" /etc/kubernetes/pki/apiserver-etcd-client.key'),
        '600 root',
      );
      await sameFile(sh, ['cp1', 'cp2'], '/etc/kubernetes/pki/apiserver-etcd-client.key');
      await sameFile(sh, ['cp1', 'cp2'], '/etc/kubernetes/pki/ca.key');
    },
  },
  {
    title: 'stacked etcd, certificates uploaded with a certificate key kubeadm-ha made',
    fleet: { controlPlanes: 3, workers: 1 },
    file: { certificates: 'upload' },
    async check(fleet, sh) {
      assert.deepEqual(
        initArgv(fleet),
        ['init --config /var/lib/kubeadm-ha/kubeadm-config.yaml --upload-certs'],
        'the key is in the 0600 config, not argv',
      );
      const keyFile = () => sh('cp1', 'sudo -n cat /var/lib/kubeadm-ha/certificate-key 2>/dev/null || echo none');
      assert.equal(await keyFile(), 'none', 'the certificate key left cp1 once the control planes had joined');
      const configs = () => sh('cp1', 'sudo -n ls -A /var/lib/kubeadm-ha | grep -c kubeadm-config || true');
      assert.equal(await configs(), '0', 'kubeadm-config.yaml held the key: removed when the init ended');
      for (const f of ['ca.key', 'sa.key', 'front-proxy-ca.key', 'etcd/ca.key'])
        await sameFile(sh, ['cp1', 'cp2', 'cp3'], `/etc/kubernetes/pki/${f}`);
      for (const cp of ['cp2', 'cp3']) {
        assert.equal(
          await sh(cp, 'sudo -n ls /var/lib/kubeadm-ha/journal | grep -c distributeCerts || true'),
          '0',
          `${cp}: no certificate copy in upload mode`,
        );
      }
      // The re-upload a later control-plane join gets (about to expire, or a later run): with a new key.
      const spec = loadClusterFile(fleet.clusterFile);
      const before = readState(fleet.dir).certsSecret!.expires;
      const cp1 = spec.controlPlanes[0];
      const r: { detail: string } = await new MockActivityEnvironment().run(activities.uploadCerts, {
        host: cp1,
        ssh: spec.ssh,
        stepId: 'e2e.uploadCerts.cp1.1',
        config: {
          kubernetesVersion: spec.kubernetesVersion,
          nodeName: 'cp1',
          advertiseAddress: cp1.address,
          controlPlaneEndpoint: `${spec.loadBalancer.host}:${spec.loadBalancer.port}`,
          certSANs: [],
          podSubnet: spec.networking.podSubnet,
        },
      });
      assert.match(r.detail, /uploaded/);
      assert.deepEqual(
        readInvocations(fleet.dir, 'cp1')
          .filter((i) => i.argv.includes('upload-certs'))
          .map((i) => `${i.argv.join(' ')} ${i.exitCode}`),
        ['init phase upload-certs --upload-certs --config /var/lib/kubeadm-ha/kubeadm-config.yaml 0'],
      );
      assert.ok(readState(fleet.dir).certsSecret!.expires > before, 'the kubeadm-certs Secret lives two more hours');
      const key = await keyFile();
      assert.match(key, /^[0-9a-f]{64}$/, 'a new key, kept on cp1');
      assert.equal(await sh('cp1', 'sudo -n stat -c "%a %U" /var/lib/kubeadm-ha/certificate-key'), '600 root');
      assert.ok(opensCertsSecret(readState(fleet.dir).certsSecret!, `certificateKey: ${key}\n`), 'uploaded with it');
      assert.equal(await configs(), '0', 'the config of the upload is removed too');
    },
  },
  {
    title: 'every host reached through a jump host (ssh.jumpHost), as behind a bastion',
    fleet: { controlPlanes: 2, workers: 1, bastion: true },
    file: async (fleet) => ({
      ssh: {
        ...parse(readFileSync(fleet.clusterFile, 'utf8')).ssh,
        jumpHost: { address: fleet.bastion!.address, port: fleet.bastion!.port },
      },
    }),
    async check(fleet) {
      // The worker's sessions to the hosts are tunnels through the bastion: one bastion login each.
      const bastionLog = readFileSync(join(fleet.dir, 'hosts', 'bastion', 'sshd.log'), 'utf8');
      const logins = (bastionLog.match(/Accepted publickey/g) ?? []).length;
      const sessions = fleet.hosts.reduce(
        (n, h) =>
          n +
          (readFileSync(join(fleet.dir, 'hosts', h.name, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? [])
            .length,
        0,
      );
      assert.ok(logins > 0 && logins === sessions, `${logins} bastion logins for ${sessions} host sessions`);
    },
  },
  {
    title: "Kubernetes 1.13, the HA page's oldest version (kubeadm.k8s.io/v1beta1)",
    fleet: { controlPlanes: 2, workers: 1, kubernetesVersion: 'v1.13.5' },
    async check(fleet, sh) {
      assert.equal(await configApi(sh), 'apiVersion: kubeadm.k8s.io/v1beta1');
      assert.deepEqual(initArgv(fleet), ['init --config /var/lib/kubeadm-ha/kubeadm-config.yaml']);
      assert.equal(await sh('cp1', 'kubeadm version -o short'), 'v1.13.5');
      await sameFile(sh, ['cp1', 'cp2'], '/etc/kubernetes/pki/ca.key');
    },
  },
  {
    // 1.36 and 1.37 run on real nodes (test/e2e/real-cluster); the newest release on the stand-ins
    // still has the real kubeadm validate its configs and make its PKI.
    title: 'Kubernetes 1.35, the newest on the stand-ins (kubeadm.k8s.io/v1beta4)',
    fleet: { controlPlanes: 2, workers: 1, kubernetesVersion: 'v1.35.4' },
    async check(fleet, sh) {
      assert.equal(await configApi(sh), 'apiVersion: kubeadm.k8s.io/v1beta4');
      assert.equal(await sh('cp1', 'kubeadm version -o short'), 'v1.35.4');
      await sameFile(sh, ['cp1', 'cp2'], '/etc/kubernetes/pki/ca.key');
    },
  },
];

describe('the procedure per topology, certificate mode and version, on the local fleet', () => {
  const rig = new Rig();
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const logs: string[] = [];

  before(async () => {
    quietRuntime(
      new DefaultLogger('INFO', (e) => logs.push(`${e.level} ${e.message} ${JSON.stringify(e.meta ?? {})}`)),
    );
    env = await startDevServer();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      ...activityWorkerOptions,
      dataConverter: workerDataConverter(),
    });
    running = worker.run();
  });
  after(async () => {
    try {
      worker?.shutdown();
      await running?.catch(() => undefined);
      await sessionPool().closeAll(); // as the worker process does after run()
      await env?.teardown();
    } finally {
      await rig.down();
    }
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const fleet = await rig.fleet(c.fleet);
      const changes = typeof c.file === 'function' ? await c.file(fleet) : c.file;
      const doc = { ...parse(readFileSync(fleet.clusterFile, 'utf8')), ...changes };
      delete doc.approvals; // every gate, approved by the CLI
      writeFileSync(fleet.clusterFile, stringify(doc));
      const out: string[] = [];
      const code = await main(
        ['start', fleet.clusterFile, '--auto-approve', 'e2e-bot', '--address', env.address],
        (s) => out.push(s),
      );
      assert.equal(code, 0, out.join('\n'));
      await assertClusterBuilt(fleet);

      const spec = loadClusterFile(fleet.clusterFile);
      const sessions = new Map<string, HostSession>();
      const hosts: HostSpec[] = fleet.hosts.map((h) => ({ name: h.name, address: h.address, port: h.port }));
      const sh = async (host: string, cmd: string) => {
        if (!sessions.has(host))
          sessions.set(
            host,
            await openSession(
              await loadTarget(
                hosts.find((h) => h.name === host)!,
                spec.ssh,
              ),
            ),
          );
        const r = await sessions.get(host)!.run(cmd);
        assert.equal(r.exitCode, 0, `${host}: ${cmd}: ${r.stderr}`);
        return r.stdout.trim();
      };
      // The kubeadm-certs Secret as the run left it (the checks may upload again, with another key). The
      // run's key is gone from the hosts: a text holds it if some 64 hex digits in it open this Secret.
      const uploadedByRun = spec.certificates === 'upload' ? readState(fleet.dir).certsSecret : undefined;
      if (spec.certificates === 'upload') assert.ok(uploadedByRun, 'the run uploaded the certificates');
      try {
        await c.check(fleet, sh);
        // Secrets of this run: its certificate key (upload mode), tokens, private keys.
        const history = await historyText(env.client.workflow.getHandle(workflowIdFor(fleet.clusterName)));
        // As stored (what `temporal workflow show` prints), every payload is ciphertext.
        const stored = JSON.parse(
          execFileSync(
            TEMPORAL_CLI,
            ['workflow', 'show', '-w', workflowIdFor(fleet.clusterName), '--output', 'json', '--address', env.address],
            { encoding: 'utf8' },
          ),
        );
        const payloads = storedPayloads(stored);
        const plain = payloads.filter(
          (p) => p.metadata?.encoding !== Buffer.from('binary/encrypted').toString('base64'),
        );
        assert.ok(
          payloads.length > 20 && plain.length === 0,
          `no plain payload in the stored history: ${JSON.stringify(plain).slice(0, 300)}`,
        );
        // Nor in any command line on the hosts (where ps shows it): the fleet logs kubeadm's argv.
        const argv = fleet.hosts
          .flatMap((h) => readInvocations(fleet.dir, h.name).map((i) => i.argv.join(' ')))
          .join('\n');
        for (const [what, text] of [
          ['history', history],
          ['worker log', logs.join('\n')],
          ['kubeadm argv on the hosts', argv],
        ]) {
          assert.doesNotMatch(text, TOKEN, `no join token in the ${what}`);
          assert.doesNotMatch(text, SECRET_PEM, `no private key in the ${what}`);
          if (uploadedByRun)
            assert.ok(!opensCertsSecret(uploadedByRun, text), `the certificate key is not in the ${what}`);
        }
      } finally {
        await Promise.all([...sessions.values()].map((s) => s.close()));
      }
    });
  }
});
