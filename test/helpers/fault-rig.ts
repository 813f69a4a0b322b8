// What the fault test files (test/e2e/faults-*.test.ts) share: a Rig with its dev server, worker
// process and fleets, brought up before the file's tests and torn down after them, and the steps
// each test takes on it. One file per theme, so each stays well within the per-file timeout.
import { after, before } from 'node:test';
import type { FleetInfo } from '../../fleet';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import { Rig } from './harness';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Call inside a describe: the rig is up for its tests and down after them, fleets included. */
export function faultRig() {
  const rig = new Rig();
  const server = rig.server;
  before(() => rig.up());
  after(() => rig.down());

  type Shape = { controlPlanes?: number; workers?: number; initMs?: number; joinMs?: number };
  const fleet = (opts: Shape = {}): Promise<FleetInfo> =>
    rig.fleet({
      controlPlanes: opts.controlPlanes ?? 3,
      workers: opts.workers ?? 2,
      timing: { initMs: opts.initMs ?? 6000, joinMs: opts.joinMs ?? 4000 },
    });
  /** Starts a run through the CLI, approving every gate, and resolves with its exit code. */
  function start(f: FleetInfo, out: string[] = []): Promise<number> {
    const argv = ['start', f.clusterFile, '--auto-approve', 'fault-bot', '--address', server.address];
    return main(argv, (s) => out.push(s));
  }
  const cluster = (f: FleetInfo) => loadClusterFile(f.clusterFile).name;
  const replaceWorker = async () => {
    rig.worker.kill();
    await sleep(500);
    await rig.newWorker();
  };
  return { rig, server, fleet, start, cluster, replaceWorker };
}
