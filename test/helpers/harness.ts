// What the fault tests run on: a Temporal dev server that can be stopped and started again on its
// SQLite file, kubeadm-ha workers as separate processes (so a test can SIGKILL one), and checks of
// the hosts themselves once a run is over.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { fleetDown, fleetUp, readInvocations, type FleetInfo, type FleetOptions } from '../../fleet';
import { loadClusterFile } from '../../src/config/cluster-file';
import { parseGetNodes } from '../../src/kubeadm/kubectl';
import { parseMemberList, etcdctlCommand } from '../../src/kubeadm/etcd';
import { KUBECTL } from '../../src/kubeadm/paths';
import { isControlPlaneRow } from '../../src/kubeadm/node-state';
import { PROGRESS_MEMO, Progress, workflowIdFor } from '../../src/shared/definitions';
import { loadTarget } from '../../src/ssh/target';
import { openSession } from '../../src/ssh/session';
import type { HostSession } from '../../src/ssh/types';
import { workerArgv, workerEnv } from '../../src/worker-node-flags';
import { devServerArgv, freePort } from '../../scripts/dev-server';

export { freePort };
import { dataConverter, TEMPORAL_CLI } from './temporal';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function stopProcess(p: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!p || p.exitCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([gone, sleep(graceMs).then(() => p.kill('SIGKILL'))]);
}

/** The dev server's Web UI: its port, and the codec server it tells the browser to call (if any). */
export interface DevServerUi {
  port: number;
  codecEndpoint?: string;
}

/** A Temporal server a rig runs on: where it is, and how the CLI and the worker connect to it. */
export interface TemporalService {
  address: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The TEMPORAL_* variables a worker or CLI process connects with. */
  connectionEnv(): Record<string, string>;
  /** The same as CLI flags. */
  cliFlags(): string[];
  client(): Promise<{ client: Client; close: () => Promise<void> }>;
}

/** `temporal server start-dev` on a SQLite file: stop() and start() keep every run. Headless unless `ui` is set. */
export class DevServer implements TemporalService {
  address = '';
  private proc: ChildProcess | undefined;
  private port = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'kha-temporal-'));
  ui: DevServerUi | undefined;

  async start(): Promise<void> {
    this.port ||= await freePort();
    this.address = `127.0.0.1:${this.port}`;
    const ui = this.ui
      ? [
          '--ui-ip',
          '127.0.0.1',
          '--ui-port',
          String(this.ui.port),
          '--ui-disable-news-fetch',
          ...(this.ui.codecEndpoint ? ['--ui-codec-endpoint', this.ui.codecEndpoint] : []),
        ]
      : undefined;
    this.proc = spawn(TEMPORAL_CLI, devServerArgv(this.port, join(this.dir, 'temporal.db'), ui), { stdio: 'ignore' });
    for (let i = 0; i < 120; i++) {
      try {
        const c = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        await c.workflowService.getSystemInfo({});
        await c.close();
        return;
      } catch {
        await sleep(250);
      }
    }
    throw new Error(`dev server on ${this.address} did not start`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await stopProcess(p, 10_000);
  }

  connectionEnv(): Record<string, string> {
    return { TEMPORAL_ADDRESS: this.address };
  }

  cliFlags(): string[] {
    return ['--address', this.address];
  }

  async client(): Promise<{ client: Client; close: () => Promise<void> }> {
    const connection = await Connection.connect({ address: this.address });
    return { client: new Client({ connection, dataConverter: dataConverter() }), close: () => connection.close() };
  }
}

/** A kubeadm-ha worker in its own process, logging to a file a test can search. */
export class WorkerProcess {
  private proc: ChildProcess | undefined;
  readonly log: string;
  private static n = 0;

  constructor(
    private readonly server: TemporalService,
    logDir: string,
    /** A zone's task queue (--task-queue); the runs' own by default. */
    private readonly taskQueue?: string,
  ) {
    this.log = join(logDir, `worker-${++WorkerProcess.n}.log`);
  }

  /** The identity Temporal records for it (the SDK's default, pid@hostname), once started. */
  get identity(): string {
    return `${this.proc?.pid}@${hostname()}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    const out = createWriteStream(this.log, { flags: 'a' });
    const env = { ...process.env };
    // The server's own connection settings only: none from the machine's environment or profile.
    for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_') && k !== 'TEMPORAL_CLI_PATH') delete env[k];
    this.proc = spawn(
      process.execPath,
      [...workerArgv(), ...(this.taskQueue ? ['--task-queue', this.taskQueue] : [])],
      {
        env: workerEnv({
          ...env,
          ...this.server.connectionEnv(),
          TEMPORAL_CONFIG_FILE: '/dev/null',
          LOG_LEVEL: 'INFO',
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.proc.stdout!.pipe(out);
    this.proc.stderr!.pipe(out);
    const ready = new Promise<void>((res, rej) => {
      this.proc!.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('kubeadm-ha worker: task queue')) res();
      });
      this.proc!.once('exit', (code) => rej(new Error(`worker exited with ${code}; see ${this.log}`)));
    });
    await Promise.race([
      ready,
      sleep(60_000).then(() => {
        throw new Error(`worker did not start; see ${this.log}`);
      }),
    ]);
  }

  /** As a crash would: no shutdown, no goodbye to the server. */
  kill(): void {
    this.proc?.kill('SIGKILL');
    this.proc = undefined;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await stopProcess(p, 35_000); // the worker's own shutdown grace is 30 s
  }
}

/** A Temporal server (a dev server by default), its worker processes and the fleets a test file brings up, torn down together. */
export class Rig {
  /** The first worker, which newWorker replaces. */
  worker!: WorkerProcess;
  /** More workers on the same server (several on a queue, or a zone's). */
  readonly extraWorkers: WorkerProcess[] = [];
  private readonly logs = mkdtempSync(join(tmpdir(), 'kha-rig-'));
  private readonly dirs: string[] = [];

  constructor(readonly server: TemporalService = new DevServer()) {}

  async up(): Promise<void> {
    await this.server.start();
    await this.newWorker();
  }

  async down(): Promise<void> {
    try {
      await Promise.all([this.worker, ...this.extraWorkers].map((w) => w?.stop()));
      await this.server.stop();
    } finally {
      // Every fleet down before any log is copied: a copy that fails must not leave a fleet running.
      for (const d of this.dirs) await fleetDown(d).catch(() => undefined);
    }
    for (const d of this.dirs) {
      // The hosts' logs (kubelet, containerd, sshd, kubeadm invocations) outlive the fleet, for a look after a failure.
      if (existsSync(join(d, 'hosts'))) {
        for (const h of readdirSync(join(d, 'hosts'))) {
          const logs = join(d, 'hosts', h, 'logs');
          if (existsSync(logs)) cpSync(logs, join(this.logs, basename(d), h), { recursive: true });
        }
      }
      rmSync(d, { recursive: true, force: true });
    }
  }

  /** Starts a worker (after the previous one was killed or stopped). */
  async newWorker(): Promise<void> {
    this.worker = new WorkerProcess(this.server, this.logs);
    await this.worker.start();
  }

  /** Starts another worker beside the first, on the runs' queue or a zone's. */
  async addWorker(taskQueue?: string): Promise<WorkerProcess> {
    const w = new WorkerProcess(this.server, this.logs, taskQueue);
    this.extraWorkers.push(w);
    await w.start();
    return w;
  }

  async fleet(opts: Omit<FleetOptions, 'dir'>): Promise<FleetInfo> {
    const dir = mkdtempSync(join(tmpdir(), 'kha-rig-fleet-'));
    this.dirs.push(dir);
    return fleetUp({ dir, ...opts });
  }
}

/** Runs a command on a fleet host (any role) over SSH, with sudo; fails the test unless it exits 0; its stdout, trimmed. */
export async function onHost(fleet: FleetInfo, host: string, cmd: string): Promise<string> {
  const h = fleet.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no host ${host} in the fleet`);
  const s = await openSession(
    await loadTarget({ name: h.name, address: h.address, port: h.port }, loadClusterFile(fleet.clusterFile).ssh),
  );
  try {
    const r = await s.run(cmd);
    assert.equal(r.exitCode, 0, `${host}: ${cmd}: ${r.stderr}`);
    return r.stdout.trim();
  } finally {
    await s.close();
  }
}

/** Polls until `ok` holds (or fails the test after `ms`). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 120_000,
  every = 200,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

/** Waits until a kubeadm command (argv prefix) is running on the host, per the fleet's invocation log. */
export function running(fleet: FleetInfo, host: string, ...prefix: string[]): Promise<true> {
  return eventually(
    `${prefix.join(' ')} running on ${host}`,
    async () =>
      readInvocations(fleet.dir, host).some((i) => i.end === undefined && prefix.every((p, k) => i.argv[k] === p)) ||
      undefined,
  );
}

export async function progressMemo(client: Client, cluster: string): Promise<Progress | undefined> {
  const d = await client.workflow.getHandle(workflowIdFor(cluster)).describe();
  return d.memo?.[PROGRESS_MEMO] as Progress | undefined;
}

/**
 * The hosts as the procedure must leave them: one successful `kubeadm init` in all, no two kubeadm
 * commands ever overlapping on a host, one CA on every control plane, every node registered with
 * its role and Ready, every stacked control plane an etcd member.
 */
/** `since`: only kubeadm's invocations from then on count (a build after a reset of the same hosts). */
export async function assertClusterBuilt(
  fleet: FleetInfo,
  opts: { skipped?: string[]; since?: number } = {},
): Promise<void> {
  const spec = loadClusterFile(fleet.clusterFile);
  const all = [...spec.controlPlanes, ...spec.workers];
  let inits = 0;
  for (const h of all) {
    const inv = readInvocations(fleet.dir, h.name).filter(
      (i) => ['init', 'join', 'reset'].includes(i.argv[0]) && i.start >= (opts.since ?? 0),
    );
    inits += inv.filter((i) => i.argv[0] === 'init' && i.exitCode === 0).length;
    const sorted = [...inv].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      assert.ok(
        prev.end !== undefined && prev.end <= sorted[i].start,
        `${h.name}: kubeadm ${prev.argv[0]} (pid ${prev.pid}) and kubeadm ${sorted[i].argv[0]} (pid ${sorted[i].pid}) overlapped`,
      );
    }
    const joins = inv.filter((i) => i.argv[0] === 'join' && i.exitCode === 0).length;
    if (h !== spec.controlPlanes[0] && !opts.skipped?.includes(h.name))
      assert.equal(joins, 1, `${h.name}: exactly one successful join`);
  }
  assert.equal(inits, 1, 'exactly one kubeadm init ever succeeded');
  const sessions = new Map<string, HostSession>();
  try {
    const sh = async (host: string, cmd: string) => {
      if (!sessions.has(host))
        sessions.set(
          host,
          await openSession(
            await loadTarget(
              all.find((x) => x.name === host)!,
              spec.ssh,
            ),
          ),
        );
      const r = await sessions.get(host)!.run(cmd);
      assert.equal(r.exitCode, 0, `${host}: ${cmd}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const cas = new Set<string>();
    for (const cp of spec.controlPlanes)
      cas.add((await sh(cp.name, 'sha256sum /etc/kubernetes/pki/ca.crt')).split(' ')[0]);
    assert.equal(cas.size, 1, 'one CA on every control plane');
    const first = spec.controlPlanes[0].name;
    const nodes = parseGetNodes(await sh(first, `${KUBECTL} get nodes`));
    for (const h of all) {
      const n = nodes.find((x) => x.name === h.name);
      if (opts.skipped?.includes(h.name)) continue;
      assert.ok(n?.ready, `${h.name} registered and Ready`);
      // Before 1.20 kubeadm labelled control planes "master".
      assert.equal(isControlPlaneRow(n!), spec.controlPlanes.includes(h), `${h.name} has its role`);
    }
    if (spec.topology === 'stacked') {
      const members = parseMemberList(await sh(first, etcdctlCommand(KUBECTL, first, ['member', 'list'])));
      assert.deepEqual(
        members.map((m) => m.name).sort(),
        spec.controlPlanes.map((c) => c.name).sort(),
        'every control plane, and only they, are etcd members',
      );
    }
  } finally {
    await Promise.all([...sessions.values()].map((s) => s.close()));
  }
}
