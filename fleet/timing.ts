// Per-fleet timing (<dir>/timing.json), shared by the fleet manager and the stand-ins, which read it
// at each invocation so a test can change it while a run goes on.
import * as fs from 'node:fs';
import { timingFile } from './layout';
import { FleetTiming } from './types';

export function readTiming(dir: string): FleetTiming {
  try {
    return { initMs: 0, joinMs: 0, ...(JSON.parse(fs.readFileSync(timingFile(dir), 'utf8')) as Partial<FleetTiming>) };
  } catch {
    return { initMs: 0, joinMs: 0 };
  }
}

export function setTiming(dir: string, t: Partial<FleetTiming>): FleetTiming {
  for (const [k, v] of Object.entries(t)) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0))
      throw new Error(`timing ${k} must be a whole number of ms >= 0, got ${v}`);
  }
  const next = { ...readTiming(dir), ...Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) };
  const tmp = `${timingFile(dir)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(next) + '\n', { mode: 0o644 });
  fs.renameSync(tmp, timingFile(dir));
  return next;
}
