// A real fleet node's processes live in one cgroup, kha-<slot>-<node>, in every cgroup v1
// hierarchy: the node's daemons, its containerd shims and, below it, the kubelet's pods (the
// kubelet's cgroupRoot). Stopping a node is freezing and killing that cgroup, which finds every
// process even after a crash of whoever started them; nothing is found through pid files alone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleepSync } from '../proc';

const ROOT = '/sys/fs/cgroup';

/** The mounted v1 hierarchies (cpu,cpuacct and its aliases counted once); cgroup2's "unified" is left out. */
export function hierarchies(): string[] {
  if (!fs.existsSync(ROOT)) return [];
  return fs
    .readdirSync(ROOT)
    .filter(
      (h) =>
        h !== 'unified' &&
        !fs.lstatSync(path.join(ROOT, h)).isSymbolicLink() &&
        fs.existsSync(path.join(ROOT, h, 'cgroup.procs')),
    );
}

export function cgroupName(slot: number, node: string): string {
  return `kha-${slot}-${node}`;
}

/** Creates the cgroup in every hierarchy; a new cpuset starts empty and takes its parent's CPUs and memory nodes. */
export function createCgroup(name: string): void {
  for (const h of hierarchies()) {
    const d = path.join(ROOT, h, name);
    fs.mkdirSync(d, { recursive: true });
    if (h.split(',').includes('cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems'])
        fs.writeFileSync(path.join(d, f), fs.readFileSync(path.join(ROOT, h, f), 'utf8'));
    }
  }
}

/** Shell words that move the running shell into the cgroup in every hierarchy. */
export function joinCgroupScript(name: string): string {
  return hierarchies()
    .map((h) => `echo $$ > '${path.join(ROOT, h, name, 'cgroup.procs')}'`)
    .join(' && ');
}

function subtree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  if (fs.existsSync(dir)) walk(dir);
  return out; // children before parents
}

function procs(name: string): number[] {
  const pids = new Set<number>();
  for (const h of hierarchies()) {
    for (const d of subtree(path.join(ROOT, h, name))) {
      try {
        for (const l of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n'))
          if (l.trim()) pids.add(Number(l));
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return [...pids];
}

export function cgroupAlive(name: string): boolean {
  return procs(name).length > 0;
}

/** Kills every process in the cgroup and its children (frozen first, so nothing forks meanwhile), then removes the cgroups. */
export function removeCgroup(name: string): void {
  const freezer = hierarchies().find((h) => h.split(',').includes('freezer'));
  const state = freezer ? path.join(ROOT, freezer, name, 'freezer.state') : undefined;
  for (let round = 0; round < 50; round++) {
    const pids = procs(name);
    if (pids.length === 0) break;
    if (state && fs.existsSync(state)) fs.writeFileSync(state, 'FROZEN');
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (state && fs.existsSync(state)) fs.writeFileSync(state, 'THAWED');
    sleepSync(100);
  }
  for (const h of hierarchies()) {
    for (const d of subtree(path.join(ROOT, h, name))) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* a process still exits; the next down removes it */
      }
    }
  }
}

/** The cgroups of a slot's fleet (kha-<slot>-*), from the freezer hierarchy or the first one. */
export function slotCgroups(slot: number): string[] {
  const h = hierarchies().find((x) => x.split(',').includes('freezer')) ?? hierarchies()[0];
  if (!h) return [];
  return fs.readdirSync(path.join(ROOT, h)).filter((n) => n.startsWith(`kha-${slot}-`));
}

export interface CgroupUsage {
  name: string;
  rssBytes: number;
  cacheBytes: number;
  cpuPercentOfOneCore: number;
}

const counter = (h: string, name: string, file: string): number => {
  try {
    return Number(fs.readFileSync(path.join(ROOT, h, name, file), 'utf8').trim());
  } catch {
    return 0;
  }
};
const memStat = (name: string, key: string): number => {
  try {
    const line = fs
      .readFileSync(path.join(ROOT, 'memory', name, 'memory.stat'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key} `));
    return line ? Number(line.split(' ')[1]) : 0;
  } catch {
    return 0;
  }
};

/** Each of a slot's cgroups: memory (RSS and page cache, children included) and CPU over `seconds`, from cpuacct. */
export async function slotUsage(slot: number, seconds: number): Promise<CgroupUsage[]> {
  const names = slotCgroups(slot);
  const before = names.map((n) => counter('cpuacct', n, 'cpuacct.usage'));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return names.map((name, i) => ({
    name,
    rssBytes: memStat(name, 'total_rss'),
    cacheBytes: memStat(name, 'total_cache'),
    cpuPercentOfOneCore: (counter('cpuacct', name, 'cpuacct.usage') - before[i]) / (seconds * 1e7),
  }));
}
