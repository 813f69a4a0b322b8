// The whole stacked procedure, end to end: real Temporal dev server, real worker and activities,
// the CLI with automatic approvals, and the local fleet (real sshd, HAProxy, kubeadm stand-ins).
// Then the hosts themselves are checked over SSH, and history and logs are searched for secrets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { fleetDown, fleetUp, FleetInfo } from '../../fleet';
import { activityWorkerOptions } from '../../src/activities/worker-options';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import { parseGetNodes } from '../../src/kubeadm/kubectl';
import { TASK_QUEUE, workflowIdFor } from '../../src/shared/definitions';
import { sessionPool } from '../../src/ssh/pool';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import type { HostSession } from '../../src/ssh/types';
import { historyText } from '../helpers/history';
import { quietRuntime, startDevServer, workflowBundle, workerDataConverter } from '../helpers/temporal';

const TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/;
const SECRET_PEM = /PRIVATE KEY-----\s*[A-Za-z0-9+/]/;

describe('stacked HA procedure on the local fleet', () => {
  let dir: string;
  let env: TestWorkflowEnvironment;
  let fleet: FleetInfo;
  let worker: Worker;
  let running: Promise<void>;
  const logs: string[] = [];

  before(async () => {
    // Capture every log line the worker writes, activity output included, to check redaction.
    quietRuntime(
      new DefaultLogger('INFO', (e) => logs.push(`${e.level} ${e.message} ${JSON.stringify(e.meta ?? {})}`)),
    );
    dir = mkdtempSync(join(tmpdir(), 'kha-e2e-'));
    env = await startDevServer();
    fleet = await fleetUp({ dir, controlPlanes: 3, workers: 3 });
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
      if (dir) {
        await fleetDown(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('builds the cluster from the CLI, every gate approved and recorded', async () => {
    const out: string[] = [];
    const code = await main(['start', fleet.clusterFile, '--auto-approve', 'e2e-bot', '--address', env.address], (s) =>
      out.push(s),
    );
    assert.equal(code, 0, out.join('\n'));
    const printed = out.join('\n');
    assert.match(printed, /waiting for approval of "init"/);
    assert.match(printed, /joinWorkers approved by e2e-bot/);
    assert.match(printed, /Run completed/);

    const status: string[] = [];
    assert.equal(
      await main(['status', fleet.clusterName, '--json', '--address', env.address], (s) => status.push(s)),
      0,
    );
    const p = JSON.parse(status.join(''));
    assert.equal(p.workflowStatus, 'COMPLETED');
    assert.equal(p.status, 'completed');
    assert.deepEqual(p.counts, { pending: 0, running: 0, done: 6, parked: 0, skipped: 0, failed: 0 });
    assert.deepEqual(
      p.phases.map((x: { state: string }) => x.state),
      Array(8).fill('done'),
    );
    assert.deepEqual(
      p.decisions.map((d: { phase: string; approver: string }) => `${d.phase}:${d.approver}`),
      ['init:e2e-bot', 'joinControlPlanes:e2e-bot', 'joinWorkers:e2e-bot'],
    );
  });

  it("left the hosts as the procedure says: one CA, shared files with kubeadm's modes, every node joined and Ready", async () => {
    const spec = loadClusterFile(fleet.clusterFile);
    const sessions: Record<string, HostSession> = {};
    try {
      for (const h of [...spec.controlPlanes, ...spec.workers])
        sessions[h.name] = await openSession(await loadTarget(h, spec.ssh));
      const sh = async (host: string, cmd: string) => {
        const r = await sessions[host].run(cmd);
        assert.equal(r.exitCode, 0, `${host}: ${cmd}: ${r.stderr}`);
        return r.stdout.trim();
      };
      const caDigests = new Set<string>();
      for (const cp of spec.controlPlanes) {
        caDigests.add((await sh(cp.name, 'sha256sum /etc/kubernetes/pki/ca.crt')).split(' ')[0]);
        assert.equal(
          await sh(
            cp.name,
            'stat -c "%a %U:%G" /etc/kubernetes/pki/ca.key /etc/kubernetes/pki/sa.key /etc/kubernetes/pki/etcd/ca.key /etc/kubernetes/admin.conf',
          ),
          ['600 root:root', '600 root:root', '600 root:root', '600 root:root'].join('\n'),
        );
        assert.equal(
          await sh(
            cp.name,
            'stat -c "%a" /etc/kubernetes/pki/ca.crt /etc/kubernetes/pki/front-proxy-ca.crt /etc/kubernetes/pki/sa.pub',
          ),
          '644\n644\n644',
        );
        await sh(
          cp.name,
          'test -f /etc/kubernetes/manifests/kube-apiserver.yaml && test -f /etc/kubernetes/manifests/etcd.yaml',
        );
        assert.equal(await sh(cp.name, 'hostname'), cp.name);
      }
      assert.equal(caDigests.size, 1, 'every control plane has the same CA');
      for (const h of [...spec.controlPlanes, ...spec.workers]) {
        await sh(h.name, 'test -f /etc/kubernetes/kubelet.conf');
        assert.equal(
          await sh(h.name, 'ls /var/lib/kubeadm-ha | grep -c join-config || true'),
          '0',
          'join configs (they hold a token) are removed',
        );
        assert.equal(await sh(h.name, 'stat -c "%a %U" /var/lib/kubeadm-ha/journal'), '700 root');
      }
      for (const w of spec.workers) {
        await sh(w.name, 'test ! -e /etc/kubernetes/admin.conf && test ! -e /etc/kubernetes/pki/ca.key');
      }
      const nodes = parseGetNodes(await sh('cp1', 'kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes'));
      assert.deepEqual(
        nodes.map((n) => `${n.name}:${n.ready}`).sort(),
        ['cp1', 'cp2', 'cp3', 'w1', 'w2', 'w3'].map((n) => `${n}:true`),
      );
      assert.match(
        await sh('cp1', 'grep server: /etc/kubernetes/admin.conf'),
        new RegExp(`https://${fleet.loadBalancer.host.replace(/\./g, '\\.')}:6443`),
      );
    } finally {
      await Promise.all(Object.values(sessions).map((s) => s.close()));
    }
  });

  it('kept join tokens, certificate keys and private keys out of history and logs', async () => {
    const history = await historyText(env.client.workflow.getHandle(workflowIdFor(fleet.clusterName)));
    assert.match(history, /e2e-bot/, 'approvals are in history');
    assert.doesNotMatch(history, TOKEN);
    assert.doesNotMatch(history, SECRET_PEM);
    const log = logs.join('\n');
    assert.match(log, /\[cp1\] .*kubeadm/i, 'kubeadm output was streamed to the worker log');
    assert.match(log, /\*\*\*/, 'secrets in that output were masked');
    assert.doesNotMatch(log, TOKEN);
    assert.doesNotMatch(log, SECRET_PEM);
  });
});
