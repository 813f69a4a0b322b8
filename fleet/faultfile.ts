// The fault file itself, shared by the fleet manager and the stand-ins.
import * as fs from 'node:fs';
import { faultsFile } from './layout';
import { withFileLock } from './lock';
import { ControlPlaneComponent, FaultFile } from './types';

export function readFaults(dir: string): FaultFile {
  try {
    return JSON.parse(fs.readFileSync(faultsFile(dir), 'utf8')) as FaultFile;
  } catch {
    return { hosts: {} };
  }
}

export function updateFaults<T>(dir: string, fn: (f: FaultFile) => T): T {
  return withFileLock(faultsFile(dir) + '.lock', () => {
    const f = readFaults(dir);
    const out = fn(f);
    const tmp = faultsFile(dir) + `.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(f, null, 2));
    fs.renameSync(tmp, faultsFile(dir));
    return out;
  });
}

/** The components stopped on `host` (read by the stand-ins, which poll it). */
export function stoppedComponents(dir: string, host: string): ControlPlaneComponent[] {
  return readFaults(dir).hosts[host]?.stopped ?? [];
}
