#!/usr/bin/env node
// npm run bench -- --workers N --concurrency C
//
// Joins N workers to a one-control-plane cluster on the local fleet three ways, on the same fleet,
// and prints wall time and orchestrator CPU for each:
//   kubeadm-ha  a real Temporal dev server, a real worker process and a run started with the CLI
//               (approvals [], workerConcurrency C); the joinWorkers span from the history's
//               timestamps, history events and bytes per worker, the worker's peak RSS;
//   floor       OpenSSH: `xargs -P C` of `ssh host 'cat > join.yaml; sudo -n kubeadm join --config ...'`
//               with the JoinConfiguration (rendered by src/kubeadm/config.ts) on stdin;
//   ansible     ansible-core (forks C, pipelining on): copy the same content (mode 0600), then
//               `kubeadm join --config`.
// Between contenders every worker is reset (`sudo -n kubeadm reset -f`, which leaves the Node, as
// kubeadm's reset does) and its Node is removed from the fleet's cluster state (what `kubectl delete
// node` does), so each contender joins the same N clean workers.
import { devServerArgv, freePort } from './dev-server';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { fleetDown, fleetUp, readInvocations, type FleetHost, type FleetInfo } from '../fleet';
import { MAX_WORKERS } from '../fleet/layout';
import { readState, updateState } from '../fleet/standins/state';
import { kubeadmHaDataConverter } from '../src/codec/data-converter';
import { ensureKeyFile, KEY_ENV, KEY_FILE_ENV } from '../src/codec/keys';
import { caCertHashCommand, parseCaCertHash } from '../src/kubeadm/certs';
import { renderJoinConfig } from '../src/kubeadm/config';
import { workerArgv, workerEnv } from '../src/worker-node-flags';
import { PROGRESS_MEMO, type Progress, workflowIdFor } from '../src/shared/definitions';

const ROOT = resolve(__dirname, '../..');
const TEMPORAL_CLI = process.env.TEMPORAL_CLI_PATH ?? resolve(ROOT, '.tools/venv/bin/temporal');
const BENCH_VENV = resolve(ROOT, '.bench-venv');
/** The Ansible the figures in docs/benchmark.md were measured with (PyPI). */
const ANSIBLE_CORE = 'ansible-core==2.19.14';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);
const CLK_TCK = 100; // USER_HZ on Linux (sysconf(_SC_CLK_TCK)); /proc/<pid>/stat counts in it

interface Result {
  contender: string;
  wallS: number;
  /** kubeadm-ha: the whole run (every phase, init included), workflow start to close. */
  runS?: number;
  /** For kubeadm-ha: the span from the first joinNode scheduled to the last completed. */
  joinSpanS?: number;
  cpuS: number;
  cpuDetail?: Record<string, number>;
  joined: number;
  failed: number;
  /** Mean run time of `kubeadm join` on the hosts (the fleet's invocation log). */
  kubeadmJoinMeanS?: number;
  /** kubeadm-ha: mean joinNode schedule-to-start and start-to-close (history timestamps). */
  joinNodeScheduleToStartMeanS?: number;
  joinNodeStartToCloseMeanS?: number;
  /** The whole machine (hosts, sshd, stand-ins, orchestrator) over the contender's run: CPU and processes started (/proc/stat). */
  machineCpuS?: number;
  forks?: number;
  historyEvents?: number;
  /** Executions of the run (the build and its waves) and the most events any one holds. */
  executions?: number;
  maxExecutionEvents?: number;
  historyBytes?: number;
  peakRssMiB?: number;
}

function log(s: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

/** utime+stime of one process, in seconds (proc(5): fields 14 and 15 of /proc/<pid>/stat). */
/** Machine-wide CPU seconds (user+nice+system) and processes forked since boot, from /proc/stat. */
function machineCounters(): { cpuS: number; forks: number } {
  const stat = readFileSync('/proc/stat', 'utf8');
  const cpu = stat.match(/^cpu\s+(\d+) (\d+) (\d+)/m)!;
  return {
    cpuS: (Number(cpu[1]) + Number(cpu[2]) + Number(cpu[3])) / CLK_TCK,
    forks: Number(stat.match(/^processes (\d+)/m)![1]),
  };
}

/** Runs a contender and adds what the whole machine spent meanwhile. */
async function withMachineCounters(fn: () => Promise<Result>): Promise<Result> {
  const m0 = machineCounters();
  const r = await fn();
  const m1 = machineCounters();
  return { ...r, machineCpuS: Math.round((m1.cpuS - m0.cpuS) * 10) / 10, forks: m1.forks - m0.forks };
}

function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** VmRSS (resident set now) of a process, in MiB (proc(5)). */
function rssMiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

/** VmHWM (peak resident set) of a process, in MiB (proc(5)). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function stop(p: ChildProcess | undefined, graceMs = 35_000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([gone, sleep(graceMs).then(() => p.kill('SIGKILL'))]);
}

/** ssh(1) to a fleet host with the fleet's key and known_hosts, strict host-key checks. */
function sshArgs(f: FleetInfo, h: FleetHost): string[] {
  return [
    '-i',
    f.privateKeyFile,
    '-o',
    `UserKnownHostsFile=${f.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-p',
    String(h.port),
    `kha@${h.address}`,
  ];
}

async function ssh(f: FleetInfo, h: FleetHost, command: string): Promise<string> {
  const { stdout } = await run('ssh', [...sshArgs(f, h), command], { maxBuffer: 64 << 20 });
  return stdout;
}

async function inParallel<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** Workers whose Node is registered in the fleet's cluster state. */
function joinedWorkers(f: FleetInfo): number {
  const nodes = readState(f.dir).nodes;
  return f.hosts.filter((h) => h.role === 'worker' && nodes[h.name]).length;
}

/** kubeadm reset -f on every worker (it leaves the Node), then the Nodes removed from the cluster state. */
async function resetWorkers(f: FleetInfo, workers: FleetHost[], concurrency: number): Promise<void> {
  const t = Date.now();
  await inParallel(workers, concurrency, async (w) => {
    await ssh(f, w, 'sudo -n kubeadm reset -f >/dev/null 2>&1');
  });
  const names = new Set(workers.map((w) => w.name));
  updateState(f.dir, (s) => {
    for (const n of Object.keys(s.nodes)) if (names.has(n)) delete s.nodes[n];
  });
  log(`reset ${workers.length} workers and removed their Nodes in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

/** Successful `kubeadm join` runs on the workers since `since` (the fleet's invocation log). */
function joinsSince(
  f: FleetInfo,
  workers: FleetHost[],
  since: number,
): { ok: number; failed: number; kubeadmJoinMeanS: number } {
  let ok = 0;
  let failed = 0;
  let total = 0;
  let n = 0;
  for (const w of workers) {
    const inv = readInvocations(f.dir, w.name).filter((i) => i.argv[0] === 'join' && i.start >= since);
    if (inv.some((i) => i.exitCode === 0)) ok++;
    else failed++;
    for (const i of inv)
      if (i.end !== undefined) {
        total += i.end - i.start;
        n++;
      }
  }
  return { ok, failed, kubeadmJoinMeanS: n ? total / n / 1000 : NaN };
}

/** `/usr/bin/time` around a command: wall and the CPU of its whole (waited-for) process tree. */
async function timed(
  cmd: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; log: string },
): Promise<{ wallS: number; cpuS: number; code: number }> {
  const timeFile = `${opts.log}.time`;
  const t = process.hrtime.bigint();
  const p = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, ...cmd], {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(opts.log);
  p.stdout!.pipe(out);
  p.stderr!.pipe(out);
  const code = await new Promise<number>((r) => p.once('exit', (c) => r(c ?? 1)));
  const wallS = Number(process.hrtime.bigint() - t) / 1e9;
  const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wallS, cpuS: u + s, code };
}

// ---------------------------------------------------------------- kubeadm-ha

async function benchKubeadmHa(f: FleetInfo, workers: FleetHost[], concurrency: number, out: string): Promise<Result> {
  // The run as an operator starts it: no gates, C workers at once.
  const clusterFile = join(f.dir, 'cluster.yaml');
  writeFileSync(
    clusterFile,
    readFileSync(clusterFile, 'utf8')
      .replace(/^approvals: .*$/m, 'approvals: []')
      .replace(/^workerConcurrency: .*$/m, `workerConcurrency: ${concurrency}`),
  );
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const dbDir = join(out, 'temporal');
  rmSync(dbDir, { recursive: true, force: true });
  mkdirSync(dbDir, { recursive: true });
  const server = spawn(TEMPORAL_CLI, devServerArgv(port, join(dbDir, 'temporal.db')), { stdio: 'ignore' });
  let worker: ChildProcess | undefined;
  let connection: Connection | undefined;
  try {
    for (let i = 0; ; i++) {
      try {
        const c = await Connection.connect({ address, connectTimeout: 1000 });
        await c.workflowService.getSystemInfo({});
        await c.close();
        break;
      } catch (err) {
        if (i > 120) throw new Error(`dev server on ${address} did not start: ${err}`, { cause: err });
        await sleep(250);
      }
    }
    const env = { ...process.env, TEMPORAL_ADDRESS: address, LOG_LEVEL: 'INFO' };
    const workerLog = createWriteStream(join(out, 'worker.log'));
    worker = spawn(process.execPath, workerArgv(), { env: workerEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.pipe(workerLog);
    worker.stderr!.pipe(workerLog);
    await new Promise<void>((res, rej) => {
      worker!.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('kubeadm-ha worker: task queue')) res();
      });
      worker!.once('exit', (code) => rej(new Error(`worker exited with ${code}; see ${out}/worker.log`)));
    });
    await sleep(1000); // let the worker's start-up (bundle load) settle before the CPU baseline
    const cpu0 = { worker: cpuOf(worker.pid!), server: cpuOf(server.pid!) };
    const t0 = process.hrtime.bigint();
    const since = Date.now();
    const cli = await run(process.execPath, [resolve(ROOT, 'lib/src/client/cli.js'), 'start', clusterFile], { env });
    log(cli.stdout.trim().split('\n')[0]);
    connection = await Connection.connect({ address });
    const client = new Client({ connection, dataConverter: kubeadmHaDataConverter() });
    const handle = client.workflow.getHandle(workflowIdFor(f.clusterName));
    let desc = await handle.describe();
    let midStatus = false;
    // The worker's memory over the run, with the phase it was in: where the peak comes from.
    const rssTrace: { s: number; rssMiB: number; phase?: string }[] = [];
    while (desc.status.name === 'RUNNING') {
      await sleep(1000);
      desc = await handle.describe();
      rssTrace.push({
        s: Math.round(Number(process.hrtime.bigint() - t0) / 1e8) / 10,
        rssMiB: rssMiB(worker.pid!),
        phase: (desc.memo?.[PROGRESS_MEMO] as Progress | undefined)?.phase,
      });
      // Once, a third of the way through the joins: what `status` shows of a large cluster (it is in the figures, a query and a history read).
      const memo = desc.memo?.[PROGRESS_MEMO] as Progress | undefined;
      if (!midStatus && memo?.phase === 'joinWorkers' && memo.counts.done > workers.length / 3) {
        midStatus = true;
        const st = await run(process.execPath, [resolve(ROOT, 'lib/src/client/cli.js'), 'status', f.clusterName], {
          env,
        }).catch((e) => ({ stdout: String(e) }));
        writeFileSync(join(out, 'status-during-joins.txt'), st.stdout);
      }
    }
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const runS = (desc.closeTime ? desc.closeTime.getTime() - desc.startTime.getTime() : NaN) / 1000;
    const cpu1 = { worker: cpuOf(worker.pid!), server: cpuOf(server.pid!) };
    const rss = peakRssMiB(worker.pid!);
    writeFileSync(join(out, 'worker-rss.json'), JSON.stringify(rssTrace));
    const st = await run(process.execPath, [resolve(ROOT, 'lib/src/client/cli.js'), 'status', f.clusterName], {
      env,
    }).catch((e) => ({ stdout: String(e) }));
    writeFileSync(join(out, 'status-after.txt'), st.stdout);
    if (desc.status.name !== 'COMPLETED') log(`run ended ${desc.status.name}; see ${out}/worker.log`);
    const info = desc.raw.workflowExecutionInfo;
    // A fleet larger than a wave joins its workers in child workflows (src/workflows/build/waves.ts):
    // the span and the history figures take every execution of the run.
    const history = await handle.fetchHistory();
    const executions = [{ id: handle.workflowId, events: history.events ?? [] }];
    for (const e of history.events ?? []) {
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
      if (child)
        executions.push({ id: child, events: (await client.workflow.getHandle(child).fetchHistory()).events ?? [] });
    }
    let historyEvents = Number(info?.historyLength ?? 0);
    let historyBytes = Number(info?.historySizeBytes ?? 0);
    let maxExecutionEvents = historyEvents;
    for (const x of executions.slice(1)) {
      const i = (await client.workflow.getHandle(x.id).describe()).raw.workflowExecutionInfo;
      historyEvents += Number(i?.historyLength ?? 0);
      historyBytes += Number(i?.historySizeBytes ?? 0);
      maxExecutionEvents = Math.max(maxExecutionEvents, Number(i?.historyLength ?? 0));
    }
    const ts = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
      Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
    // Activity type per ActivityTaskScheduled event (execution and event id); per type the first scheduled and last completed.
    const typeOf = new Map<string, string>();
    const scheduledAt = new Map<string, number>();
    const startedAt = new Map<string, number>();
    const phases: Record<string, { first: number; last: number; n: number }> = {};
    let toStart = 0;
    let toClose = 0;
    let nJoins = 0;
    for (const x of executions)
      for (const e of x.events) {
        const key = (id: unknown) => `${x.id}:${String(id)}`;
        const s = e.activityTaskScheduledEventAttributes;
        if (s) {
          const type = s.activityType?.name ?? '?';
          typeOf.set(key(e.eventId), type);
          scheduledAt.set(key(e.eventId), ts(e));
          const p = (phases[type] ??= { first: ts(e), last: ts(e), n: 0 });
          p.first = Math.min(p.first, ts(e));
          p.n++;
        }
        const st = e.activityTaskStartedEventAttributes;
        if (st) startedAt.set(key(st.scheduledEventId), ts(e));
        const c = e.activityTaskCompletedEventAttributes;
        if (c) {
          const id = key(c.scheduledEventId);
          const type = typeOf.get(id) ?? '?';
          const p = phases[type];
          if (p) p.last = Math.max(p.last, ts(e));
          // Started events are written when the attempt ends (for retried activities), so their time is the attempt's start.
          if (type === 'joinNode' && startedAt.has(id)) {
            toStart += startedAt.get(id)! - scheduledAt.get(id)!;
            toClose += ts(e) - startedAt.get(id)!;
            nJoins++;
          }
        }
      }
    const joins = phases.joinNode ?? { first: 0, last: 0, n: 0 };
    const { ok, failed, kubeadmJoinMeanS } = joinsSince(f, workers, since);
    writeFileSync(join(out, 'history-bytes.json'), JSON.stringify(historyBytesByEvent(history.events ?? []), null, 2));
    writeFileSync(
      join(out, 'kubeadm-ha-activities.json'),
      JSON.stringify(
        Object.fromEntries(
          Object.entries(phases).map(([k, v]) => [k, { activities: v.n, spanS: (v.last - v.first) / 1000 }]),
        ),
        null,
        2,
      ),
    );
    return {
      contender: 'kubeadm-ha',
      wallS,
      runS,
      joinSpanS: (joins.last - joins.first) / 1000,
      cpuS: cpu1.worker - cpu0.worker + cpu1.server - cpu0.server,
      cpuDetail: { workerS: cpu1.worker - cpu0.worker, temporalServerS: cpu1.server - cpu0.server },
      joined: ok,
      failed,
      kubeadmJoinMeanS,
      historyEvents,
      historyBytes,
      executions: executions.length,
      maxExecutionEvents,
      peakRssMiB: rss,
      joinNodeScheduleToStartMeanS: nJoins ? toStart / nJoins / 1000 : NaN,
      joinNodeStartToCloseMeanS: nJoins ? toClose / nJoins / 1000 : NaN,
    };
  } finally {
    await connection?.close().catch(() => undefined);
    await stop(worker);
    await stop(server, 10_000);
  }
}
/** Where the history's bytes go: per event type (and per activity type for activity events), count and protobuf bytes. */
function historyBytesByEvent(
  events: temporal.api.history.v1.IHistoryEvent[],
): Record<string, { events: number; bytes: number }> {
  const typeOf = new Map<string, string>();
  const out: Record<string, { events: number; bytes: number }> = {};
  for (const e of events) {
    const kind = temporal.api.enums.v1.EventType[e.eventType ?? 0].replace(/^EVENT_TYPE_/, '');
    const s = e.activityTaskScheduledEventAttributes;
    if (s) typeOf.set(String(e.eventId), s.activityType?.name ?? '?');
    const sched =
      e.activityTaskStartedEventAttributes?.scheduledEventId ??
      e.activityTaskCompletedEventAttributes?.scheduledEventId ??
      e.activityTaskFailedEventAttributes?.scheduledEventId;
    const activity = s
      ? typeOf.get(String(e.eventId))
      : sched !== undefined && sched !== null
        ? typeOf.get(String(sched))
        : undefined;
    const key = activity ? `${kind} ${activity}` : kind;
    const o = (out[key] ??= { events: 0, bytes: 0 });
    o.events++;
    o.bytes += temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1].bytes - a[1].bytes));
}

// ---------------------------------------------------------------- join material for the others

async function joinMaterial(f: FleetInfo): Promise<{ token: string; caCertHash: string }> {
  const cp1 = f.hosts.find((h) => h.name === 'cp1')!;
  const token = (await ssh(f, cp1, 'sudo -n kubeadm token create --ttl 2h --description kubeadm-ha-bench'))
    .trim()
    .split('\n')
    .pop()!
    .trim();
  const caCertHash = parseCaCertHash(await ssh(f, cp1, caCertHashCommand()));
  return { token, caCertHash };
}

function writeJoinConfigs(
  f: FleetInfo,
  workers: FleetHost[],
  m: { token: string; caCertHash: string },
  dir: string,
): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const w of workers) {
    writeFileSync(
      join(dir, `${w.name}.yaml`),
      renderJoinConfig({
        kubernetesVersion: f.kubernetesVersion,
        nodeName: w.name,
        apiServerEndpoint: `${f.loadBalancer.host}:${f.loadBalancer.port}`,
        token: m.token,
        caCertHashes: [m.caCertHash],
      }),
      { mode: 0o600 },
    );
  }
}

// The hosts share the parent's /tmp (only the kubeadm, kubelet and home folders are per host), so
// each worker gets its own file name there.
const remoteJoinFile = (name: string) => `/tmp/kha-bench-join-${name}.yaml`;

// ---------------------------------------------------------------- the OpenSSH floor

async function benchFloor(f: FleetInfo, workers: FleetHost[], concurrency: number, out: string): Promise<Result> {
  const cfgDir = join(out, 'floor-configs');
  writeJoinConfigs(f, workers, await joinMaterial(f), cfgDir);
  const lines = workers.map((w) => `${w.address} ${w.name}`).join('\n') + '\n';
  writeFileSync(join(out, 'floor-hosts.txt'), lines);
  const ssh = [
    'ssh',
    '-i',
    f.privateKeyFile,
    '-o',
    `UserKnownHostsFile=${f.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-p',
    '2222',
  ].join(' ');
  // $0 address, $1 name; the config goes on stdin, never in argv.
  const each = `${ssh} kha@$0 "umask 077; cat > ${remoteJoinFile('$1')} && sudo -n kubeadm join --config ${remoteJoinFile('$1')}; rc=\\$?; rm -f ${remoteJoinFile('$1')}; exit \\$rc" < ${cfgDir}/$1.yaml > ${cfgDir}/$1.log 2>&1`;
  const since = Date.now();
  const r = await timed(
    ['sh', '-c', `xargs -P ${concurrency} -L 1 sh -c '${each}' < ${join(out, 'floor-hosts.txt')}`],
    { log: join(out, 'floor.log') },
  );
  for (const w of workers) rmSync(join(cfgDir, `${w.name}.yaml`), { force: true }); // they hold the token
  const { ok, failed, kubeadmJoinMeanS } = joinsSince(f, workers, since);
  return { contender: 'floor (ssh + xargs -P)', wallS: r.wallS, cpuS: r.cpuS, joined: ok, failed, kubeadmJoinMeanS };
}

// ---------------------------------------------------------------- Ansible

async function benchAnsible(f: FleetInfo, workers: FleetHost[], concurrency: number, out: string): Promise<Result> {
  const playbookBin = join(BENCH_VENV, 'bin/ansible-playbook');
  if (!existsSync(playbookBin)) {
    log(`ansible: python3 -m venv .bench-venv && pip install ${ANSIBLE_CORE}`);
    await run('python3', ['-m', 'venv', BENCH_VENV]);
    await run(join(BENCH_VENV, 'bin/pip'), ['install', '-q', '--disable-pip-version-check', ANSIBLE_CORE]);
  }
  const dir = join(out, 'ansible');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'host_vars'), { recursive: true, mode: 0o700 });
  const m = await joinMaterial(f);
  const inventory = [
    '[workers]',
    ...workers.map((w) => `${w.name} ansible_host=${w.address}`),
    '',
    '[workers:vars]',
    'ansible_port=2222',
    'ansible_user=kha',
    `ansible_ssh_private_key_file=${f.privateKeyFile}`,
    'ansible_python_interpreter=/usr/bin/python3',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'inventory.ini'), inventory);
  // The join config as a host variable (JSON is YAML), so each task sends only that host's.
  for (const w of workers) {
    writeFileSync(
      join(dir, 'host_vars', `${w.name}.yml`),
      JSON.stringify({
        join_config: renderJoinConfig({
          kubernetesVersion: f.kubernetesVersion,
          nodeName: w.name,
          apiServerEndpoint: `${f.loadBalancer.host}:${f.loadBalancer.port}`,
          token: m.token,
          caCertHashes: [m.caCertHash],
        }),
      }) + '\n',
      { mode: 0o600 },
    );
  }
  writeFileSync(
    join(dir, 'join.yml'),
    `- hosts: workers
  gather_facts: false
  become: true
  tasks:
    - name: join config
      ansible.builtin.copy:
        content: "{{ join_config }}"
        dest: "/tmp/kha-bench-join-{{ inventory_hostname }}.yaml"
        mode: "0600"
      no_log: true
    - name: kubeadm join
      ansible.builtin.command: kubeadm join --config /tmp/kha-bench-join-{{ inventory_hostname }}.yaml
`,
  );
  const controlDir = join(dir, 'cp');
  mkdirSync(controlDir, { recursive: true });
  writeFileSync(
    join(dir, 'ansible.cfg'),
    `[defaults]
inventory = ${join(dir, 'inventory.ini')}
forks = ${concurrency}
host_key_checking = True
interpreter_python = /usr/bin/python3
local_tmp = ${join(dir, 'tmp')}
[ssh_connection]
pipelining = True
control_path_dir = ${controlDir}
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${f.knownHostsFile} -o StrictHostKeyChecking=yes
`,
  );
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: join(dir, 'ansible.cfg'),
    ANSIBLE_HOME: join(dir, 'home'),
    PATH: `${join(BENCH_VENV, 'bin')}:${process.env.PATH}`,
  };
  const since = Date.now();
  const r = await timed([playbookBin, join(dir, 'join.yml')], { env, cwd: dir, log: join(out, 'ansible.log') });
  // The ControlPersist masters detach from ansible (no one waits for them): count them, then end them.
  let mastersS = 0;
  for (const pid of await pidsWith(controlDir)) {
    try {
      mastersS += cpuOf(pid);
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  rmSync(join(dir, 'host_vars'), { recursive: true, force: true }); // they hold the token
  if (r.code !== 0) log(`ansible-playbook exited ${r.code}; see ${out}/ansible.log`);
  const { ok, failed, kubeadmJoinMeanS } = joinsSince(f, workers, since);
  return {
    contender: `ansible-core (forks ${concurrency}, pipelining)`,
    wallS: r.wallS,
    cpuS: r.cpuS + mastersS,
    cpuDetail: { ansibleTreeS: r.cpuS, sshControlMastersS: mastersS },
    joined: ok,
    failed,
    kubeadmJoinMeanS,
  };
}

/** Pids of processes whose command line contains `s` (the ssh ControlPersist masters of a control dir). */
async function pidsWith(s: string): Promise<number[]> {
  const { readdirSync } = await import('node:fs');
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(s)) pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

// ---------------------------------------------------------------- main

function fmt(results: Result[], n: number): string {
  const floor = results.find((r) => r.contender.startsWith('floor'));
  const rows = [
    [
      'CONTENDER',
      'WALL s',
      'JOIN SPAN s',
      'x FLOOR',
      'CPU s',
      'JOINED',
      'JOIN ON HOST s',
      'EVENTS/HOST',
      'BYTES/HOST',
      'PEAK RSS MiB',
      'MACHINE CPU s',
      'FORKS',
    ],
  ];
  for (const r of results) {
    const span = r.joinSpanS ?? r.wallS;
    rows.push([
      r.contender,
      (r.runS ?? r.wallS).toFixed(1),
      span.toFixed(1),
      floor ? (span / floor.wallS).toFixed(2) : '-',
      `${r.cpuS.toFixed(1)}${
        r.cpuDetail
          ? ` (${Object.entries(r.cpuDetail)
              .map(([k, v]) => `${k} ${v.toFixed(1)}`)
              .join(', ')})`
          : ''
      }`,
      `${r.joined}/${n}`,
      r.kubeadmJoinMeanS !== undefined ? r.kubeadmJoinMeanS.toFixed(2) : '-',
      r.historyEvents ? (r.historyEvents / n).toFixed(1) : '-',
      r.historyBytes ? Math.round(r.historyBytes / n).toString() : '-',
      r.peakRssMiB ? r.peakRssMiB.toFixed(0) : '-',
      r.machineCpuS?.toFixed(1) ?? '-',
      r.forks?.toString() ?? '-',
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      workers: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '20' },
      slot: { type: 'string' },
      'join-ms': { type: 'string', default: '0' },
      only: { type: 'string', default: 'kubeadm-ha,floor,ansible' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    console.log(
      'usage: npm run bench -- --workers N --concurrency C [--slot S (default $KHA_FLEET_FIRST_SLOT or 50)] [--join-ms MS] [--only kubeadm-ha,floor,ansible] [--dir D]',
    );
    return 0;
  }
  const n = Number(v.workers);
  const c = Number(v.concurrency);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS || !Number.isInteger(c) || c < 1 || c > 500)
    throw new Error(`--workers 1..${MAX_WORKERS}, --concurrency 1..500`);
  const only = new Set(v.only!.split(','));
  const slot = v.slot !== undefined ? Number(v.slot) : undefined;
  if (slot === undefined) process.env.KHA_FLEET_FIRST_SLOT ??= '50';
  const out = resolve(v.dir ?? join(ROOT, '.run', `bench-${n}x${c}`));
  mkdirSync(out, { recursive: true });
  // Encrypted payloads, as a real deployment runs (a bench-only key unless one is set).
  if (!process.env[KEY_FILE_ENV] && !process.env[KEY_ENV])
    process.env[KEY_FILE_ENV] = ensureKeyFile(resolve(ROOT, '.run/bench-codec.key'));
  const fleetDir = join(out, 'fleet');
  log(`fleet: 1 control plane, ${n} workers`);
  const t = Date.now();
  const f = await fleetUp({
    dir: fleetDir,
    controlPlanes: 1,
    workers: n,
    ...(slot !== undefined ? { slot } : {}),
    timing: { joinMs: Number(v['join-ms']) },
  });
  log(`fleet up on slot ${f.slot} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const workers = f.hosts.filter((h) => h.role === 'worker');
  const results: Result[] = [];
  const stopping = () => {
    void fleetDown(fleetDir).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopping);
  process.once('SIGTERM', stopping);
  try {
    // kubeadm-ha runs the whole procedure (init included): the others need an initialised cp1.
    log('kubeadm-ha: dev server, worker, run');
    results.push(await withMachineCounters(() => benchKubeadmHa(f, workers, c, out)));
    log(`kubeadm-ha: ${JSON.stringify(results.at(-1))}`);
    if (!only.has('kubeadm-ha')) results.pop();
    for (const [name, fn] of [
      ['floor', benchFloor],
      ['ansible', benchAnsible],
    ] as const) {
      if (!only.has(name)) continue;
      if (joinedWorkers(f) > 0) await resetWorkers(f, workers, c);
      log(`${name}: joining ${n} workers, ${c} at once`);
      const r = await withMachineCounters(() => fn(f, workers, c, out));
      results.push(r);
      log(`${name}: ${JSON.stringify(r)}`);
    }
  } finally {
    await fleetDown(fleetDir);
    // The hosts share the machine's /tmp: the join configs Ansible left there (they hold the token) go too.
    for (const w of workers) rmSync(remoteJoinFile(w.name), { force: true });
    log('fleet down');
  }
  console.log(
    `\n${n} workers, concurrency ${c}, join-ms ${v['join-ms']} (fleet stand-ins), ${new Date().toISOString()}`,
  );
  console.log(fmt(results, n));
  console.log(
    JSON.stringify({
      bench: { workers: n, concurrency: c, joinMs: Number(v['join-ms']), at: new Date().toISOString() },
      results: results.map((r) => ({
        ...r,
        ...(r.historyEvents
          ? { eventsPerHost: r.historyEvents / n, bytesPerHost: Math.round(r.historyBytes! / n) }
          : {}),
      })),
    }),
  );
  return results.every((r) => r.joined === n) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
