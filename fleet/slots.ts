// Machine-wide slot registry, so fleets run side by side: /run/kubeadm-ha-fleets/<slot> holds the
// dir of the fleet using the slot's addresses (layout.ts). Claims happen under one lock; a claim
// whose fleet is down (and whose claimant is gone) is taken over.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_SLOT, NODE_NET, fleetFile } from './layout';
import { withFileLock } from './lock';
import { alive } from './proc';
import { FleetInfo } from './types';

const REGISTRY = '/run/kubeadm-ha-fleets';
const LOCK = path.join(REGISTRY, '.lock');

interface Claim {
  dir: string;
  /** The process bringing the fleet up: the claim holds while it runs, before fleet.json exists. */
  pid: number;
}

function readClaim(slot: number): Claim | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(REGISTRY, String(slot)), 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

function fleetRuns(dir: string, slot: number): boolean {
  try {
    const info = JSON.parse(fs.readFileSync(fleetFile(dir), 'utf8')) as FleetInfo;
    return info.slot === slot && (alive(info.loadBalancer.pid) || info.hosts.some((h) => alive(h.sshdPid)));
  } catch {
    return false;
  }
}

/**
 * Slots whose addresses something listens on without a claim (e.g. a fleet of an older version):
 * from /proc/net/tcp, whose addresses are little-endian hex. Only the fleet's own ranges count, so a
 * service on 127.0.0.1 does not take slot 0.
 */
function slotsListenedOn(): Set<number> {
  const used = new Set<number>();
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== '0A') continue; // LISTEN
    const hex = f[1]?.split(':')[0] ?? '';
    const b = [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16));
    if (b[0] === 127 && [20, 21, 30].includes(b[2])) used.add(b[1]);
    if (`${b[0]}.${b[1]}` === NODE_NET) used.add(b[2]);
  }
  return used;
}

/** Claims `wanted`, or the lowest free slot from env KHA_FLEET_FIRST_SLOT (default 0). */
export function claimSlot(dir: string, wanted?: number): number {
  fs.mkdirSync(REGISTRY, { recursive: true, mode: 0o755 });
  return withFileLock(LOCK, () => {
    const listened = slotsListenedOn();
    const taken = (s: number): string | undefined => {
      const c = readClaim(s);
      if (c && c.dir !== dir && (alive(c.pid) || fleetRuns(c.dir, s))) return `the fleet in ${c.dir}`;
      return listened.has(s) && c?.dir !== dir
        ? `an unregistered process listening on 127.${s}.x.x or ${NODE_NET}.${s}.x`
        : undefined;
    };
    let slot = wanted;
    if (slot !== undefined) {
      if (!Number.isInteger(slot) || slot < 0 || slot > MAX_SLOT)
        throw new Error(`slot must be 0..${MAX_SLOT}, got ${slot}`);
      const by = taken(slot);
      if (by) throw new Error(`slot ${slot} is in use by ${by}`);
    } else {
      const first = Number(process.env.KHA_FLEET_FIRST_SLOT ?? 0);
      if (!Number.isInteger(first) || first < 0 || first > MAX_SLOT)
        throw new Error(`KHA_FLEET_FIRST_SLOT must be 0..${MAX_SLOT}`);
      for (let s = first; s <= MAX_SLOT && slot === undefined; s++) if (!taken(s)) slot = s;
      if (slot === undefined) throw new Error(`no free fleet slot in ${first}..${MAX_SLOT}`);
    }
    release(dir);
    fs.writeFileSync(
      path.join(REGISTRY, String(slot)),
      JSON.stringify({ dir, pid: process.pid } satisfies Claim) + '\n',
    );
    return slot;
  });
}

/** Frees every slot claimed for `dir` (fleetDown). */
/** The slots this fleet dir holds. */
export function slotsOf(dir: string): number[] {
  if (!fs.existsSync(REGISTRY)) return [];
  return fs
    .readdirSync(REGISTRY)
    .filter((f) => /^\d+$/.test(f) && readClaim(Number(f))?.dir === dir)
    .map(Number);
}

export function releaseSlots(dir: string): void {
  if (fs.existsSync(REGISTRY)) withFileLock(LOCK, () => release(dir));
}

function release(dir: string): void {
  for (const f of fs.existsSync(REGISTRY) ? fs.readdirSync(REGISTRY) : []) {
    if (/^\d+$/.test(f) && readClaim(Number(f))?.dir === dir) fs.rmSync(path.join(REGISTRY, f), { force: true });
  }
}
