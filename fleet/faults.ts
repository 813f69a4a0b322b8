// Fault switches. The file is read by the stand-ins at start (the API server stand-in polls it for
// stopped components); LB faults act on HAProxy/iptables.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fleetFile } from './layout';
import { addDrop, removeDrops, startHaproxy, stopHaproxy } from './lb';
import { cutSshSessions, startHost, stopHostSshd } from './hosts';
import { updateFaults } from './faultfile';
import { CommandFault, CommandFaultMode, ControlPlaneComponent, FleetHost, FleetInfo } from './types';

export type FaultSpec =
  | { host: string; command: string; mode: CommandFaultMode; delayMs?: number; message?: string; phase?: string }
  | { host: string; sshd: 'down' | 'up' }
  /** Drops the host's established SSH connections once; its sshd keeps listening. */
  | { host: string; cutSsh: true }
  /** Blackholes packets to the host's sshd (iptables DROP), as an unplugged cable or a firewall would; 'normal' lifts it. */
  | { host: string; ssh: 'drop' | 'normal' }
  /** Stops or starts a static pod's process: its ports then refuse connections (HAProxy's check drops the API server). */
  | { host: string; component: ControlPlaneComponent; state: 'stopped' | 'running' }
  | { lb: 'drop' | 'refuse' | 'normal' };

export function setFault(dir: string, spec: FaultSpec): void {
  if ('lb' in spec) return setLbFault(dir, spec.lb);
  if ('sshd' in spec) {
    knownHost(dir, spec.host);
    if (spec.sshd === 'down') stopHostSshd(dir, spec.host);
    else startHost(dir, spec.host);
    return;
  }
  if ('ssh' in spec) {
    const h = knownHost(dir, spec.host);
    if (spec.ssh === 'drop') addDrop(dir, h.address, h.port);
    else removeDrops(dir, h.address, h.port);
    return;
  }
  if ('cutSsh' in spec) {
    knownHost(dir, spec.host);
    cutSshSessions(dir, spec.host);
    return;
  }
  if ('component' in spec) {
    knownHost(dir, spec.host);
    if (!['kube-apiserver', 'etcd'].includes(spec.component)) throw new Error(`unknown component ${spec.component}`);
    updateFaults(dir, (f) => {
      const h = (f.hosts[spec.host] ??= { commands: [] });
      h.stopped = (h.stopped ?? []).filter((c) => c !== spec.component);
      if (spec.state === 'stopped') h.stopped.push(spec.component);
    });
    return;
  }
  knownHost(dir, spec.host);
  if (!['fail', 'fail-once', 'hang', 'slow'].includes(spec.mode)) throw new Error(`unknown fault mode ${spec.mode}`);
  const fault: CommandFault = {
    command: spec.command.trim(),
    mode: spec.mode,
    delayMs: spec.delayMs,
    message: spec.message,
    phase: spec.phase,
  };
  updateFaults(dir, (f) => {
    const h = (f.hosts[spec.host] ??= { commands: [] });
    h.commands = h.commands.filter((c) => c.command !== fault.command);
    h.commands.push(fault);
  });
}

function setLbFault(dir: string, mode: 'drop' | 'refuse' | 'normal'): void {
  const lb = fleetInfo(dir).loadBalancer;
  if (mode === 'drop') addDrop(dir, lb.host, lb.port);
  else removeDrops(dir, lb.host, lb.port);
  if (mode === 'refuse') stopHaproxy(dir);
  else startHaproxy(dir);
  updateFaults(dir, (f) => {
    f.lb = mode;
  });
}

/** Clears command faults, starts stopped components, restores the LB, lifts SSH drops and restarts stopped sshds. */
export function clearFaults(dir: string): void {
  setLbFault(dir, 'normal');
  removeDrops(dir);
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

function knownHost(dir: string, host: string): FleetHost {
  const h = fleetInfo(dir).hosts.find((x) => x.name === host);
  if (!h) throw new Error(`unknown host ${host}`);
  return h;
}
