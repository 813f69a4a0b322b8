// The procedure end to end for each topology, certificate mode and the oldest and newest
// Kubernetes versions: real Temporal dev server, real worker and activities, the CLI with
// automatic approvals, and the local fleet (real sshd, HAProxy, real etcd for external etcd).
// Each run is checked on the hosts, and its history and logs are searched for its secrets.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { readInvocations, type FleetInfo, type FleetOptions } from '../../fleet';
import { createActivities } from '../../src/activities';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import { TASK_QUEUE, workflowIdFor } from '../../src/shared/definitions';
import { HostSession, loadTarget, openSession } from '../../src/ssh/session';
import { assertClusterBuilt, Rig } from '../helpers/harness';
import { historyText } from '../helpers/history';
import { quietRuntime, startDevServer, workflowBundle } from '../helpers/temporal';

const TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/;
const SECRET_PEM = /PRIVATE KEY-----\s*[A-Za-z0-9+/]/;

interface Case {
  title: string;
  fleet: Omit<FleetOptions, 'dir'>;
  /** Changes to the fleet's cluster file. */
  file?: Record<string, unknown>;
  /** What this case must show on the hosts, beyond a built cluster. */
  check(fleet: FleetInfo, sh: (host: string, cmd: string) => Promise<string>): Promise<void>;
}

const initArgv = (fleet: FleetInfo) => readInvocations(fleet.dir, 'cp1').filter((i) => i.argv[0] === 'init' && i.exitCode === 0).map((i) => i.argv.join(' '));
const configApi = (sh: (host: string, cmd: string) => Promise<string>) => sh('cp1', 'sudo -n grep -m1 ^apiVersion: /var/lib/kubeadm-ha/kubeadm-config.yaml');
const sameFile = async (sh: (host: string, cmd: string) => Promise<string>, hosts: string[], file: string) =>
  assert.equal(new Set(await Promise.all(hosts.map(async (h) => (await sh(h, `sudo -n sha256sum ${file}`)).split(' ')[0]))).size, 1, `${file} is the same on ${hosts.join(', ')}`);

const CASES: Case[] = [
  {
    title: 'stacked etcd, certificates uploaded with a certificate key kubeadm-ha made',
    fleet: { controlPlanes: 3, workers: 1 },
    file: { certificates: 'upload' },
    async check(fleet, sh) {
      assert.deepEqual(initArgv(fleet), ['init --config /var/lib/kubeadm-ha/kubeadm-config.yaml --upload-certs'], 'the key is in the 0600 config, not argv');
      assert.equal(await sh('cp1', 'sudo -n stat -c "%a %U" /var/lib/kubeadm-ha/certificate-key /var/lib/kubeadm-ha/kubeadm-config.yaml'), '600 root\n600 root');
      const key = await sh('cp1', 'sudo -n cat /var/lib/kubeadm-ha/certificate-key');
      assert.match(key, /^[0-9a-f]{64}$/);
      assert.match(await sh('cp1', 'sudo -n grep certificateKey: /var/lib/kubeadm-ha/kubeadm-config.yaml'), new RegExp(`certificateKey: ${key}`));
      for (const f of ['ca.key', 'sa.key', 'front-proxy-ca.key', 'etcd/ca.key']) await sameFile(sh, ['cp1', 'cp2', 'cp3'], `/etc/kubernetes/pki/${f}`);
      for (const cp of ['cp2', 'cp3']) {
        assert.equal(await sh(cp, 'sudo -n ls /var/lib/kubeadm-ha/journal | grep -c distributeCerts || true'), '0', `${cp}: no certificate copy in upload mode`);
      }
      return void key;
    },
  },
  {
    title: 'Kubernetes 1.13, the HA page\'s oldest version (kubeadm.k8s.io/v1beta1)',
    fleet: { controlPlanes: 2, workers: 1, kubernetesVersion: 'v1.13.5' },
    async check(fleet, sh) {
      assert.equal(await configApi(sh), 'apiVersion: kubeadm.k8s.io/v1beta1');
      assert.deepEqual(initArgv(fleet), ['init --config /var/lib/kubeadm-ha/kubeadm-config.yaml']);
      assert.equal(await sh('cp1', 'kubeadm version -o short'), 'v1.13.5');
      await sameFile(sh, ['cp1', 'cp2'], '/etc/kubernetes/pki/ca.key');
    },
  },
  {
    title: 'Kubernetes 1.37, the newest (kubeadm.k8s.io/v1beta4)',
    fleet: { controlPlanes: 2, workers: 1, kubernetesVersion: 'v1.37.2' },
    async check(fleet, sh) {
      assert.equal(await configApi(sh), 'apiVersion: kubeadm.k8s.io/v1beta4');
      assert.equal(await sh('cp1', 'kubeadm version -o short'), 'v1.37.2');
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
    quietRuntime(new DefaultLogger('INFO', (e) => logs.push(`${e.level} ${e.message} ${JSON.stringify(e.meta ?? {})}`)));
    env = await startDevServer();
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities: createActivities() });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
    await rig.down();
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const fleet = await rig.fleet(c.fleet);
      const doc = { ...parse(readFileSync(fleet.clusterFile, 'utf8')), ...c.file };
      delete doc.approvals; // every gate, approved by the CLI
      writeFileSync(fleet.clusterFile, stringify(doc));
      const out: string[] = [];
      const code = await main(['start', fleet.clusterFile, '--auto-approve', 'e2e-bot', '--address', env.address], (s) => out.push(s));
      assert.equal(code, 0, out.join('\n'));
      await assertClusterBuilt(fleet);

      const spec = loadClusterFile(fleet.clusterFile);
      const sessions = new Map<string, HostSession>();
      const hosts = [...spec.controlPlanes, ...spec.workers, ...(spec.etcd && 'hosts' in spec.etcd ? spec.etcd.hosts : [])];
      const sh = async (host: string, cmd: string) => {
        if (!sessions.has(host)) sessions.set(host, await openSession(await loadTarget(hosts.find((h) => h.name === host)!, spec.ssh)));
        const r = await sessions.get(host)!.run(cmd);
        assert.equal(r.exitCode, 0, `${host}: ${cmd}: ${r.stderr}`);
        return r.stdout.trim();
      };
      try {
        await c.check(fleet, sh);
        // Secrets of this run: its certificate key (upload mode), tokens, private keys.
        const history = await historyText(env.client.workflow.getHandle(workflowIdFor(fleet.clusterName)));
        const key = spec.certificates === 'upload' ? await sh('cp1', 'sudo -n cat /var/lib/kubeadm-ha/certificate-key') : undefined;
        for (const [what, text] of [['history', history], ['worker log', logs.join('\n')]]) {
          assert.doesNotMatch(text, TOKEN, `no join token in the ${what}`);
          assert.doesNotMatch(text, SECRET_PEM, `no private key in the ${what}`);
          if (key) assert.ok(!text.includes(key), `the certificate key is not in the ${what}`);
        }
      } finally {
        await Promise.all([...sessions.values()].map((s) => s.close()));
      }
    });
  }
});
