// What the test suite left behind, checked by scripts/test.sh after its last file: the processes the
// suite starts (sshd, HAProxy, the fleet's stand-ins, Temporal servers, workers, codec servers,
// containerd, the kubelet, socat) and the real fleet's cgroups holding processes, when they belong to
// this checkout. Prints each and exits 1 if there is any.
//
//   KHA_TEST_CHECKOUT=$PWD node lib/scripts/leftovers.js
//
// `--stop` (what `npm run down` runs) also counts the processes running in the checkout (the
// demo's client, the dev server) and stops each instead (TERM, then KILL after 5 s),
// says what it stopped, and exits 0; with nothing left it prints nothing.
//
// A process is this checkout's when it carries KHA_TEST_CHECKOUT=<this checkout> in its environment
// (test.sh exports it, and the suite's processes inherit it), names the checkout on its command line
// (one spawned with an environment of its own), runs in the checkout (the demo's client), or sees the checkout at CODE_MOUNT (a stand-in fleet
// host's processes started over SSH, whose environment is sshd's). A suite running from another
// folder at the same time matches none of the three.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CODE_MOUNT } from '../fleet/layout';

export const CHECKOUT_ENV = 'KHA_TEST_CHECKOUT';

export interface ProcessView {
  argv: string[];
  /** NAME=value entries. */
  environ: string[];
  /** Whether CODE_MOUNT, as the process sees it, is the checkout. */
  seesCheckout: boolean;
  /** Its working directory (unknown for a process of another user). */
  cwd?: string;
}

/** What kind of suite process `argv` is, or undefined for any other process. */
export function suiteKind(cmdline: string[]): string | undefined {
  // sshd retitles itself into one string: "sshd: /usr/sbin/sshd -f CONFIG ... [listener] ...".
  const argv = cmdline.length === 1 ? cmdline[0].split(' ').filter((w) => w !== 'sshd:') : cmdline;
  const cmd = basename(argv[0] ?? '');
  const line = argv.join(' ');
  if (cmd === 'sshd' && argv.includes('-f')) return 'sshd';
  if (cmd === 'haproxy') return 'haproxy';
  if (/\/standins\//.test(line)) return 'fleet stand-in';
  if (cmd === 'temporal' && argv[1] === 'server') return 'Temporal dev server';
  if (cmd === 'temporal-test-server') return 'Temporal test server';
  if (cmd === 'temporal-server') return 'Temporal server (scripts/temporal-prod.sh)';
  if (cmd === 'ui-server') return 'Temporal Web UI server';
  // PostgreSQL's children retitle themselves into one string: "postgres: checkpointer".
  if (cmd === 'postgres' || (argv[0] ?? '').startsWith('postgres:')) return 'PostgreSQL';
  if (argv.some((a) => basename(a) === 'worker.js')) return 'kubeadm-ha worker';
  if (argv.some((a) => /(^|\/)src\/client\/cli\.js$/.test(a)) && !argv.includes('codec-server'))
    return 'kubeadm-ha client';
  if (argv.includes('codec-server')) return 'codec server';
  if (cmd === 'containerd' && argv.includes('--config')) return 'containerd';
  if (cmd === 'kubelet' || argv.some((a) => basename(a) === 'kubelet-service.py')) return 'kubelet';
  if (cmd === 'socat') return 'socat';
  return undefined;
}

/**
 * Whether the process belongs to the checkout at `root`. `byCwd` (for `--stop`) also counts a
 * process that runs in the checkout: the demo's client, the dev server `npm run server` started.
 * The suite's own check leaves those out: a developer's dev server may run beside the tests.
 */
export function ofCheckout(p: ProcessView, root: string, byCwd = false): boolean {
  return (
    p.environ.includes(`${CHECKOUT_ENV}=${root}`) ||
    p.seesCheckout ||
    (byCwd && p.cwd === root) ||
    p.argv.some((a) => a === root || a.includes(`${root}/`))
  );
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // gone meanwhile, or a kernel thread
  }
};

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return []; // no cgroup v1 freezer here
  }
};

function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

function view(pid: string, root: string): ProcessView | undefined {
  const cmdline = read(`/proc/${pid}/cmdline`);
  if (!cmdline) return undefined;
  return {
    argv: cmdline.split('\0').filter(Boolean),
    environ: (read(`/proc/${pid}/environ`) ?? '').split('\0'),
    // /proc/PID/root is the process's own view of the file system, mount namespace included.
    seesCheckout: sameFile(`/proc/${pid}/root${CODE_MOUNT}`, root),
    cwd: cwdOf(pid),
  };
}

function cwdOf(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** TERM, then KILL if it is still there after `graceMs`. */
async function stop(pid: number, graceMs: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let t = 0; t < graceMs && alive(); t += 100) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}

async function main(stopThem: boolean): Promise<number> {
  const root = resolve(process.env[CHECKOUT_ENV] ?? process.cwd());
  const ours = new Set<string>();
  const left: string[] = [];
  for (const pid of list('/proc').filter((x) => /^\d+$/.test(x) && x !== String(process.pid))) {
    const p = view(pid, root);
    if (!p || !ofCheckout(p, root, stopThem)) continue;
    ours.add(pid);
    const kind = suiteKind(p.argv);
    if (!kind) continue;
    if (stopThem) {
      await stop(Number(pid), 5000);
      console.log(`down: stopped the ${kind} (pid ${pid})`);
    } else left.push(`${kind}: pid ${pid}: ${p.argv.join(' ').slice(0, 200)}`);
  }
  if (stopThem) return 0;
  const freezer = '/sys/fs/cgroup/freezer';
  for (const cg of list(freezer).filter((x) => x.startsWith('kha-'))) {
    const pids = (read(join(freezer, cg, 'cgroup.procs')) ?? '').split('\n').filter((x) => ours.has(x));
    if (pids.length) left.push(`cgroup ${join(freezer, cg)}: holds pids ${pids.join(' ')}`);
  }
  if (!left.length) {
    console.log(`leftovers: nothing of ${root} is left running`);
    return 0;
  }
  console.log(`leftovers: the suite left behind (${root}):\n${left.map((l) => `  ${l}`).join('\n')}`);
  return 1;
}

if (require.main === module) void main(process.argv.includes('--stop')).then((code) => process.exit(code));
