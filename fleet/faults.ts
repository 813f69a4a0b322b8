// Fault switches. The file is read by the stand-ins at start; LB faults act on HAProxy/iptables.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fleetFile } from './layout';
import { addDrop, removeDrops, startHaproxy, stopHaproxy } from './lb';
import { startHost, stopHostSshd } from './hosts';
import { updateFaults } from './faultfile';
import { CommandFault, CommandFaultMode, FleetInfo } from './types';

export type FaultSpec =
  | { host: string; command: string; mode: CommandFaultMode; delayMs?: number; message?: string }
  | { host: string; sshd: 'down' | 'up' }
  | { lb: 'drop' | 'refuse' | 'normal' };

export function setFault(dir: string, spec: FaultSpec): void {
  if ('lb' in spec) return setLbFault(dir, spec.lb);
  if ('sshd' in spec) {
    knownHost(dir, spec.host);
    if (spec.sshd === 'down') stopHostSshd(dir, spec.host);
    else startHost(dir, spec.host);
    return;
  }
  knownHost(dir, spec.host);
  const fault: CommandFault = { command: spec.command.trim(), mode: spec.mode, delayMs: spec.delayMs, message: spec.message };
  updateFaults(dir, (f) => {
    const h = (f.hosts[spec.host] ??= { commands: [] });
    h.commands = h.commands.filter((c) => c.command !== fault.command);
    h.commands.push(fault);
  });
}

function setLbFault(dir: string, mode: 'drop' | 'refuse' | 'normal'): void {
  if (mode === 'drop') addDrop(dir);
  else removeDrops(dir);
  if (mode === 'refuse') stopHaproxy(dir);
  else startHaproxy(dir);
  updateFaults(dir, (f) => {
    f.lb = mode;
  });
}

/** Clears command faults, restores the LB and restarts stopped sshds. */
export function clearFaults(dir: string): void {
  setLbFault(dir, 'normal');
  updateFaults(dir, (f) => {
    f.hosts = {};
  });
  const info = JSON.parse(fs.readFileSync(fleetFile(dir), 'utf8')) as FleetInfo;
  for (const h of info.hosts) {
    const pidFile = path.join(dir, 'hosts', h.name, 'run', 'sshd.pid');
    if (!fs.existsSync(pidFile)) startHost(dir, h.name);
  }
}

function knownHost(dir: string, host: string): void {
  const info = JSON.parse(fs.readFileSync(fleetFile(dir), 'utf8')) as FleetInfo;
  if (!info.hosts.some((h) => h.name === host)) throw new Error(`unknown host ${host}`);
}
