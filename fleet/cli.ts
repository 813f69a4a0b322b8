#!/usr/bin/env node
// node lib/fleet/cli.js up|down|status|fault|timing --dir <dir> ...
import { clearFaults, fleetDown, fleetStatus, fleetUp, setFault, setTiming } from './index';
import { CommandFaultMode, ControlPlaneComponent } from './types';
import * as path from 'node:path';
import { slotsOf } from './slots';
import { slotUsage } from './real/cgroups';

const USAGE = `usage:
  cli.js up --dir D --control-planes N --workers M [--etcd N] [--slot S] [--kubernetes-version v1.31.4] [--discovery-timeout 5m0s]
           [--init-ms N] [--join-ms N] [--bastion] [--real [--upgrade-images v1.37.2]]
  cli.js down --dir D
  cli.js status --dir D
  cli.js usage --dir D [--seconds 60]     (a real fleet: each node's memory and CPU while idle)
  cli.js timing --dir D [--init-ms N] [--join-ms N]
  cli.js fault --dir D --host H --command "kubeadm join" --mode fail|fail-once|hang|slow [--phase P] [--delay-ms N] [--message TEXT]
  cli.js fault --dir D --host H --sshd down|up
  cli.js fault --dir D --host H --cut-ssh
  cli.js fault --dir D --host H --ssh drop|normal      (drop: packets to its sshd are blackholed)
  cli.js fault --dir D --host H --stop|--start kube-apiserver|etcd
  cli.js fault --dir D --lb drop|refuse|normal
  cli.js fault --dir D --clear`;

function parse(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (a === '--clear' || a === '--cut-ssh' || a === '--bastion' || a === '--real') out[a.slice(2)] = 'true';
    else out[a.slice(2)] = argv[++i] ?? '';
  }
  return out;
}

async function main(): Promise<number> {
  const [verb, ...rest] = process.argv.slice(2);
  const o = parse(rest);
  if (!o.dir) throw new Error(USAGE);
  const num = (k: string): number | undefined => (o[k] === undefined ? undefined : Number(o[k]));
  const timing = { initMs: num('init-ms'), joinMs: num('join-ms') };
  switch (verb) {
    case 'up': {
      const t = Date.now();
      const info = await fleetUp({
        dir: o.dir,
        controlPlanes: Number(o['control-planes'] ?? 3),
        workers: Number(o.workers ?? 3),
        etcdHosts: num('etcd'),
        kubernetesVersion: o['kubernetes-version'],
        discoveryTimeout: o['discovery-timeout'],
        slot: num('slot'),
        timing,
        bastion: o.bastion === 'true',
        real: o.real === 'true',
        upgradeImages: o['upgrade-images'],
      });
      console.log(JSON.stringify(info, null, 2));
      console.error(`fleet up in ${((Date.now() - t) / 1000).toFixed(1)}s; cluster file ${info.clusterFile}`);
      return 0;
    }
    case 'usage': {
      const slots = slotsOf(path.resolve(o.dir));
      if (!slots.length) throw new Error(`no fleet is up in ${o.dir}`);
      const seconds = Number(o.seconds ?? 60);
      const rows = (await Promise.all(slots.map((s) => slotUsage(s, seconds)))).flat();
      const mb = (b: number) => (b / 1048576).toFixed(0);
      console.log(['cgroup', 'RSS MB', 'page cache MB', `CPU % of one core (${seconds} s)`].join('\t'));
      for (const r of rows)
        console.log([r.name, mb(r.rssBytes), mb(r.cacheBytes), r.cpuPercentOfOneCore.toFixed(1)].join('\t'));
      const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((t, r) => t + f(r), 0);
      console.log(
        [
          'total',
          mb(sum((r) => r.rssBytes)),
          mb(sum((r) => r.cacheBytes)),
          sum((r) => r.cpuPercentOfOneCore).toFixed(1),
        ].join('\t'),
      );
      return 0;
    }
    case 'down':
      await fleetDown(o.dir);
      return 0;
    case 'timing':
      console.log(JSON.stringify(setTiming(o.dir, timing)));
      return 0;
    case 'status':
      console.log(JSON.stringify(fleetStatus(o.dir), null, 2));
      return 0;
    case 'fault':
      if (o.clear) clearFaults(o.dir);
      else if (o.lb) setFault(o.dir, { lb: o.lb as 'drop' | 'refuse' | 'normal' });
      else if (o.host && o.sshd) setFault(o.dir, { host: o.host, sshd: o.sshd as 'down' | 'up' });
      else if (o.host && o['cut-ssh']) setFault(o.dir, { host: o.host, cutSsh: true });
      else if (o.host && (o.ssh === 'drop' || o.ssh === 'normal')) setFault(o.dir, { host: o.host, ssh: o.ssh });
      else if (o.host && (o.stop || o.start))
        setFault(o.dir, {
          host: o.host,
          component: (o.stop || o.start) as ControlPlaneComponent,
          state: o.stop ? 'stopped' : 'running',
        });
      else if (o.host && o.command && o.mode) {
        setFault(o.dir, {
          host: o.host,
          command: o.command,
          mode: o.mode as CommandFaultMode,
          delayMs: num('delay-ms'),
          message: o.message,
          phase: o.phase,
        });
      } else throw new Error(USAGE);
      return 0;
    default:
      throw new Error(USAGE);
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(e.message);
    process.exit(1);
  },
);
