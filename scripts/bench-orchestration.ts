#!/usr/bin/env node
// node lib/scripts/bench-orchestration.js [--workers 1000,2000,5000] [--concurrency 50] [--step-ms 5]
//
// The orchestration alone at scale: a real Temporal dev server (in memory), a worker process started
// as `npm run worker` starts it (same Node flags and environment, payloads encrypted) but with
// stand-in activities that answer after a few milliseconds (no SSH, no hosts), and one build per
// size, started with the client. For each size: the executions (the run and its waves), history
// events and bytes (the largest execution, and per worker over all of them), workflow task latency
// (WorkflowTaskScheduled to Completed, from the histories), the worker's CPU and peak resident set
// and the server's CPU (/proc/<pid>/stat) over the run, and how long `status` takes while the
// largest run joins its workers. Prints a markdown table and a JSON line.
import { devServerArgv, freePort } from './dev-server';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Context } from '@temporalio/activity';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { HostFacts } from '../src/activities/types';
import { status } from '../src/client/status';
import { kubeadmHaDataConverter, workerDataConverter } from '../src/codec/data-converter';
import { ensureKeyFile, KEY_FILE_ENV } from '../src/codec/keys';
import type { ClusterSpec } from '../src/config/types';
import { ClusterNameKey, progressQuery, TASK_QUEUE, workflowIdFor } from '../src/shared/definitions';
import { workflowBundleOption } from '../src/workflow-bundle';
import { workerEnv, WORKER_NODE_FLAGS } from '../src/worker-node-flags';
import type { KubeadmHaActivities } from '../src/workflows/activities';
import { haClusterWorkflow } from '../src/workflows';

const ROOT = resolve(__dirname, '../..');
const TEMPORAL_CLI = process.env.TEMPORAL_CLI_PATH ?? resolve(ROOT, '.tools/venv/bin/temporal');
const CLK_TCK = 100; // USER_HZ (sysconf(_SC_CLK_TCK)): /proc/<pid>/stat counts in it
/** Temporal's warning: a history past this many events. */
const EVENT_WARNING = 10_240;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) =>
  process.stderr.write(`[bench-orchestration ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** The stand-ins: what the build's activities answer on clean hosts, after `ms` milliseconds. */
function standIns(ms: number): Partial<KubeadmHaActivities> {
  const wait = () => new Promise((r) => setTimeout(r, ms));
  const step = async (input: { host: { name: string } }) => {
    await wait();
    return { host: input.host.name, alreadyDone: false, detail: 'done (stand-in)' };
  };
  return {
    inspectHost: async (input): Promise<HostFacts> => {
      await wait();
      return {
        name: input.host.name,
        hostname: input.host.name,
        kubeadmVersion: 'v1.31.4',
        files: { adminConf: false, kubeletConf: false, bootstrapKubeletConf: false, manifests: [], etcdData: false },
      };
    },
    readCluster: async () => null,
    probeLoadBalancer: async () => ({ outcome: 'refused', message: 'stand-in' }),
    kubeadmInit: async (input) => ({ ...(await step(input)), caCertHash: `sha256:${'a'.repeat(64)}` }),
    installCni: step,
    waitForSystemPods: step,
    distributeCerts: step,
    ensureJoinToken: async () => ({
      id: 'abcdef',
      expiresAt: new Date(Context.current().info.currentAttemptScheduledTimestampMs + 3600_000).toISOString(),
    }),
    deleteJoinTokens: async (input) => ({ deleted: input.ids, leftToExpire: [] }),
    joinNode: async (input) => ({ ...(await step(input)), detail: `joined as ${input.role} (stand-in)` }),
    cleanNode: async (input) => ({ host: input.host.name, cleaned: false, detail: '' }),
    verifyNodes: async (input) => ({
      nodes: input.expected.map((e) => ({
        name: e.name,
        ready: true,
        roles: e.role === 'control-plane' ? ['control-plane'] : [],
      })),
    }),
  };
}

/** The worker process: the shipped bundle and data converter, the stand-in activities. */
async function runWorker(address: string, ms: number): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundleOption(),
    activities: standIns(ms),
    dataConverter: workerDataConverter(),
  });
  console.log('bench worker: polling');
  await worker.run();
}

const spec = (workers: number, concurrency: number): ClusterSpec => ({
  name: `bench-${workers}`,
  kubernetesVersion: 'v1.31.4',
  topology: 'stacked',
  certificates: 'copy',
  loadBalancer: { host: 'lb.example', port: 6443 },
  networking: { podSubnet: '192.168.0.0/16' },
  cniManifest: '/dev/null',
  ssh: {
    user: 'kha',
    privateKeyFile: '/k',
    knownHostsFile: '/kh',
    port: 22,
    hostKeyPolicy: 'strict',
    forwardAgent: false,
  },
  controlPlanes: ['cp1', 'cp2', 'cp3'].map((name, i) => ({ name, address: `10.0.0.${i + 1}`, port: 22 })),
  workers: Array.from({ length: workers }, (_, i) => ({
    name: `worker-${String(i + 1).padStart(4, '0')}`,
    address: `10.1.${i >> 8}.${i & 255}`,
    port: 22,
  })),
  approvals: [],
  workerConcurrency: concurrency,
});

function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

interface Row {
  workers: number;
  executions: number;
  maxEvents: number;
  maxBytes: number;
  eventsPerWorker: number;
  bytesPerWorker: number;
  wftP50Ms: number;
  wftP99Ms: number;
  wallS: number;
  workerCpuS: number;
  workerPeakRssMiB: number;
  serverCpuS: number;
  statusMs?: number[];
  queryMs?: number[];
}

/** Every execution of a run, the run first: its waves from its own history. */
async function executions(client: Client, h: WorkflowHandle) {
  const history = await h.fetchHistory();
  const ids = [
    h.workflowId,
    ...(history.events ?? []).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []),
  ];
  return Promise.all(
    ids.map(async (id) => {
      const handle = client.workflow.getHandle(id);
      const events = id === h.workflowId ? (history.events ?? []) : ((await handle.fetchHistory()).events ?? []);
      const d = await handle.describe();
      const scheduled = new Map<string, number>();
      const wft: number[] = [];
      for (const e of events) {
        if (e.workflowTaskScheduledEventAttributes) scheduled.set(String(e.eventId), ms(e.eventTime));
        const c = e.workflowTaskCompletedEventAttributes;
        if (c) wft.push(ms(e.eventTime) - (scheduled.get(String(c.scheduledEventId)) ?? NaN));
      }
      return {
        id,
        status: d.status.name,
        events: events.length,
        bytes: Number(d.raw.workflowExecutionInfo?.historySizeBytes ?? 0),
        wft,
      };
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '1000,2000,5000' },
      concurrency: { type: 'string', default: '50' },
      'step-ms': { type: 'string', default: '5' },
      worker: { type: 'string' },
    },
  });
  const stepMs = Number(values['step-ms']);
  if (values.worker) return runWorker(values.worker, stepMs);
  const sizes = values.workers.split(',').map(Number);
  const concurrency = Number(values.concurrency);
  mkdirSync(resolve(ROOT, '.run'), { recursive: true });
  process.env[KEY_FILE_ENV] ??= ensureKeyFile(resolve(ROOT, '.run/bench-codec.key'));

  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const server = spawn(TEMPORAL_CLI, devServerArgv(port, ''), { stdio: 'ignore' });
  let worker: ChildProcess | undefined;
  let connection: Connection | undefined;
  const rows: Row[] = [];
  try {
    for (let i = 0; ; i++) {
      try {
        connection = await Connection.connect({ address, connectTimeout: 1000 });
        await connection.workflowService.getSystemInfo({});
        break;
      } catch (err) {
        if (i > 120) throw new Error(`dev server on ${address} did not start: ${err}`, { cause: err });
        await sleep(250);
      }
    }
    const client = new Client({ connection, dataConverter: kubeadmHaDataConverter() });
    // As `npm run worker` starts the worker (workerArgv): its Node flags and environment, this script in place of worker.js.
    const argv = [...WORKER_NODE_FLAGS, __filename, '--worker', address, '--step-ms', String(stepMs)];
    worker = spawn(process.execPath, argv, { env: workerEnv(process.env), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res, rej) => {
      worker!.stdout!.on('data', (d: Buffer) => d.toString().includes('bench worker: polling') && res());
      worker!.once('exit', (code) => rej(new Error(`the bench worker exited with ${code}`)));
    });
    await sleep(1000);
    for (const n of sizes) {
      const cpu0 = { worker: cpuOf(worker.pid!), server: cpuOf(server.pid!) };
      let peak = rssMiB(worker.pid!);
      const t0 = Date.now();
      const h = await client.workflow.start(haClusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: workflowIdFor(`bench-${n}`),
        args: [{ spec: spec(n, concurrency) }],
        typedSearchAttributes: [{ key: ClusterNameKey, value: `bench-${n}` }],
      });
      const statusMs: number[] = [];
      const queryMs: number[] = [];
      let done = false;
      const result = h.result().finally(() => (done = true));
      while (!done) {
        await sleep(500);
        peak = Math.max(peak, rssMiB(worker.pid!));
        // While the largest run joins its workers: what `status` and the progress query take.
        if (n === Math.max(...sizes) && statusMs.length < 5 && Date.now() - t0 > 5000 && !done) {
          const q0 = performance.now();
          const p = await h.query(progressQuery);
          if (p.phase !== 'joinWorkers') continue;
          queryMs.push(performance.now() - q0);
          const s0 = performance.now();
          let out = '';
          await status(client, `bench-${n}`, false, (s) => (out += s));
          statusMs.push(performance.now() - s0);
          if (statusMs.length === 1) log(`status of bench-${n} mid-run:\n${out.split('\n').slice(0, 8).join('\n')}`);
        }
      }
      const r = await result;
      const wallS = (Date.now() - t0) / 1000;
      const cpu = { worker: cpuOf(worker.pid!) - cpu0.worker, server: cpuOf(server.pid!) - cpu0.server };
      const ex = await executions(client, h);
      const joined = r.nodes.length - 3;
      log(`${n} workers: ${r.outcome}, ${joined} joined, ${ex.length} executions, ${wallS.toFixed(1)} s`);
      if (r.outcome !== 'completed' || joined !== n)
        throw new Error(`bench-${n} ended ${r.outcome} with ${joined} joined`);
      for (const e of ex)
        if (e.events > EVENT_WARNING) throw new Error(`${e.id}: ${e.events} events, past ${EVENT_WARNING}`);
      const wft = ex.flatMap((e) => e.wft);
      rows.push({
        workers: n,
        executions: ex.length,
        maxEvents: Math.max(...ex.map((e) => e.events)),
        maxBytes: Math.max(...ex.map((e) => e.bytes)),
        eventsPerWorker: ex.reduce((s, e) => s + e.events, 0) / n,
        bytesPerWorker: ex.reduce((s, e) => s + e.bytes, 0) / n,
        wftP50Ms: percentile(wft, 50),
        wftP99Ms: percentile(wft, 99),
        wallS,
        workerCpuS: cpu.worker,
        workerPeakRssMiB: peak,
        serverCpuS: cpu.server,
        ...(statusMs.length ? { statusMs, queryMs } : {}),
      });
    }
  } finally {
    worker?.kill('SIGINT');
    await connection?.close();
    server.kill('SIGTERM');
  }
  const f1 = (x: number) => x.toFixed(1);
  const lines = [
    `Stand-in activities of ${stepMs} ms, workerConcurrency ${concurrency}, dev server in memory, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| workers | executions | max events / execution | max bytes / execution | events / worker | bytes / worker | workflow task p50 / p99 ms | wall s | worker CPU s | worker peak RSS MiB | server CPU s | `status` ms (progress query ms) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.workers} | ${r.executions} | ${r.maxEvents} | ${r.maxBytes} | ${f1(r.eventsPerWorker)} | ${Math.round(r.bytesPerWorker)} | ${Math.round(r.wftP50Ms)} / ${Math.round(r.wftP99Ms)} | ${f1(r.wallS)} | ${f1(r.workerCpuS)} | ${Math.round(r.workerPeakRssMiB)} | ${f1(r.serverCpuS)} | ${r.statusMs ? `${r.statusMs.map((x) => Math.round(x)).join(', ')} (${r.queryMs!.map((x) => Math.round(x)).join(', ')})` : ''} |`,
    ),
  ];
  console.log(lines.join('\n'));
  console.log(JSON.stringify({ benchOrchestration: { stepMs, concurrency }, rows }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
