// The etcd static pod of an external etcd host ("Set up a High Availability etcd cluster with
// kubeadm", kubernetes.io/docs/setup/production-environment/tools/kubeadm/setup-ha-etcd-with-kubeadm/),
// run for real: while the kubelet stand-in runs, /etc/kubernetes/manifests/etcd.yaml's container
// command is started as /usr/bin/etcd (Debian's etcd 3.4) inside the host's mount namespace, restarted
// with a back-off when it dies, restarted when the manifest changes, stopped when the manifest goes
// away or the kubelet stops.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { logDir, runDir } from '../layout';
import { HostEnv } from './env';

export const ETCD = '/usr/bin/etcd';
const MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';

let known: Set<string> | undefined;
/** The flags this etcd binary knows, from its --help. */
function knownFlags(): Set<string> {
  known ??= new Set(
    [...spawnSync(ETCD, ['--help'], { encoding: 'utf8' }).stdout.matchAll(/^\s+--([a-z0-9-]+)/gm)].map((m) => m[1]),
  );
  return known;
}

const kebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/**
 * The manifest's command as etcd 3.4 arguments. Dropped or adapted:
 * - flags etcd 3.4 does not know: newer kubeadm (etcd 3.6 images, cmd/kubeadm/app/phases/etcd/local.go)
 *   writes `--feature-gates=InitialCorruptCheck=true` and `--watch-progress-notify-interval=5s`, which
 *   etcd 3.4 spells `--experimental-initial-corrupt-check` and `--experimental-watch-progress-notify-interval`;
 *   such flags are renamed, other unknown ones dropped (and logged);
 * - loopback listen URLs: all fleet hosts share one network namespace, so 127.0.0.1/localhost/[::1]
 *   in --listen-client-urls and --listen-metrics-urls (kubeadm's defaults) become the host's own address.
 */
export function etcdArgs(command: string[], address: string, log: (m: string) => void): string[] {
  const flags = knownFlags();
  const out: string[] = [];
  for (const a of command.slice(1)) {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
    if (!m) {
      log(`dropping argument ${a}`);
      continue;
    }
    const [, name, value] = m;
    if (name === 'feature-gates' && !flags.has(name)) {
      for (const g of (value ?? '').split(',').filter(Boolean)) {
        const [gate, on] = g.split('=');
        const flag = `experimental-${kebab(gate)}`;
        if (flags.has(flag)) out.push(`--${flag}=${on ?? 'true'}`);
        else log(`dropping feature gate ${g}: etcd 3.4 has no --${flag}`);
      }
      continue;
    }
    let flag = name;
    if (!flags.has(flag)) {
      if (!flags.has(`experimental-${name}`)) {
        log(`dropping ${a}: unknown to ${ETCD}`);
        continue;
      }
      flag = `experimental-${name}`;
    }
    let v = value;
    if (v !== undefined && (flag === 'listen-client-urls' || flag === 'listen-metrics-urls')) {
      v = [
        ...new Set(
          v.split(',').map((u) => u.replace(/\/\/(127\.0\.0\.1|localhost|\[::1\])(?=[:/]|$)/, `//${address}`)),
        ),
      ].join(',');
    }
    out.push(v === undefined ? `--${flag}` : `--${flag}=${v}`);
  }
  return out;
}

function readCommand(text: string): string[] | undefined {
  try {
    const c = (YAML.parse(text) as { spec?: { containers?: Array<{ command?: string[]; args?: string[] }> } })?.spec
      ?.containers?.[0];
    const cmd = [...(c?.command ?? []), ...(c?.args ?? [])].map(String);
    return cmd[0] === 'etcd' ? cmd : undefined;
  } catch {
    return undefined;
  }
}

/** Runs until stop(); polls the manifest like the kubelet's file source (every 500 ms here). */
export function superviseEtcd(e: HostEnv): { stop: () => Promise<void> } {
  const pidFile = path.join(runDir(e.dir, e.host), 'etcd.pid');
  const logFile = path.join(logDir(e.dir, e.host), 'etcd.log');
  const note = (m: string): void => fs.appendFileSync(logFile, `kubelet stand-in: ${m}\n`);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let running = '';
  let backoffMs = 1000;
  let notBefore = 0;
  let stopping = false;

  const kill = async (): Promise<void> => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    fs.rmSync(pidFile, { force: true });
  };

  const start = (text: string, cmd: string[]): void => {
    const args = etcdArgs(cmd, e.address, note);
    note(`starting ${ETCD} ${args.join(' ')}`);
    const fd = fs.openSync(logFile, 'a');
    const c = spawn(ETCD, args, { stdio: ['ignore', fd, fd], cwd: '/' });
    fs.closeSync(fd);
    const started = Date.now();
    child = c;
    running = text;
    exited = new Promise((resolve) =>
      c.on('exit', (code, sig) => {
        note(`etcd exited (${sig ?? code})`);
        if (child === c) {
          child = undefined;
          fs.rmSync(pidFile, { force: true });
          // CrashLoopBackOff, shortened: 1 s doubling to 10 s, reset after 10 s of running.
          backoffMs = Date.now() - started > 10000 ? 1000 : Math.min(backoffMs * 2, 10000);
          notBefore = Date.now() + backoffMs;
        }
        resolve();
      }),
    );
    if (c.pid) fs.writeFileSync(pidFile, String(c.pid));
  };

  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy || stopping) return;
    busy = true;
    try {
      const text = fs.existsSync(MANIFEST) ? fs.readFileSync(MANIFEST, 'utf8') : '';
      const cmd = text ? readCommand(text) : undefined;
      if (child && (!cmd || text !== running)) await kill();
      if (!child && cmd && Date.now() >= notBefore && !stopping) start(text, cmd);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 500);
  void tick();
  return {
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await kill();
    },
  };
}
