// Fault switches. The file is read by the stand-ins at start; LB faults act on HAProxy/iptables.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fleetFile } from './layout';
import { addDrop, removeDrops, startHaproxy, stopHaproxy } from './lb';
import { cutSshSessions, startHost, stopHostSshd } from './hosts';
import { updateFaults } from './faultfile';
import { CommandFault, CommandFaultMode, FleetInfo } from './types';

export type FaultSpec =
  | { host: string; command: string; mode: CommandFaultMode; delayMs?: number; message?: string; phase?: string }
  | { host: string; sshd: 'down' | 'up' }
  /** Drops the host's established SSH connections once; its sshd keeps listening. */
  | { host: string; cutSsh: true }
  | { lb: 'drop' | 'refuse' | 'normal' };

export function setFault(dir: string, spec: FaultSpec): void {
  if ('lb' in spec) return setLbFault(dir, spec.lb);
  if ('sshd' in spec) {
    knownHost(dir, spec.host);
    if (spec.sshd === 'down') stopHostSshd(dir, spec.host);
    else startHost(dir, spec.host);
    return;
  }
  if ('cutSsh' in spec) {
    knownHost(dir, spec.host);
    cutSshSessions(dir, spec.host);
    return;
  }
  knownHost(dir, spec.host);
  if (!['fail', 'fail-once', 'hang', 'slow'].includes(spec.mode)) throw new Error(`unknown fault mode ${spec.mode}`);
  const fault: CommandFault = { command: spec.command.trim(), mode: spec.mode, delayMs: spec.delayMs, message: spec.message, phase: spec.phase };
  updateFaults(dir, (f) => {
    const h = (f.hosts[spec.host] ??= { commands: [] });
    h.commands = h.commands.filter((c) => c.command !== fault.command);
    h.commands.push(fault);
  });
}

function setLbFault(dir: string, mode: 'drop' | 'refuse' | 'normal'): void {
  if (mode === 'drop') addDrop(dir, fleetInfo(dir).loadBalancer.host);
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
  for (const h of fleetInfo(dir).hosts) {
    const pidFile = path.join(dir, 'hosts', h.name, 'run', 'sshd.pid');
    if (!fs.existsSync(pidFile)) startHost(dir, h.name);
  }
}

function fleetInfo(dir: string): FleetInfo {
  return JSON.parse(fs.readFileSync(fleetFile(dir), 'utf8')) as FleetInfo;
}

function knownHost(dir: string, host: string): void {
  if (!fleetInfo(dir).hosts.some((h) => h.name === host)) throw new Error(`unknown host ${host}`);
}
