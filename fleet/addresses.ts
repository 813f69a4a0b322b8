// The fleet's non-loopback addresses (layout.ts NODE_NET) live on lo while the fleet is up.
import { spawnSync } from 'node:child_process';
import { NODE_NET } from './layout';

const onLo = (): string[] => {
  const r = spawnSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  return [...(r.stdout ?? '').matchAll(/inet (\S+)\/32/g)].map((m) => m[1]);
};

function ipBatch(lines: string[], what: string): void {
  if (lines.length === 0) return;
  const r = spawnSync('ip', ['-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `fleet: ${what} failed (${r.error?.message ?? r.stderr.trim()}); the fleet needs root with CAP_NET_ADMIN and iproute2's ip`,
    );
  }
}

/** Adds the addresses to lo (those already there are left alone). */
export function addAddresses(addresses: string[]): void {
  const present = new Set(onLo());
  ipBatch(
    addresses.filter((a) => !present.has(a)).map((a) => `addr add ${a}/32 dev lo`),
    `adding ${addresses.length} addresses to lo`,
  );
}

/** Removes these addresses from lo, or with `slot` every fleet address of that slot. */
export function removeAddresses(match: { addresses?: string[]; slot?: number }): void {
  const ours = onLo().filter(
    (a) =>
      (match.addresses?.includes(a) ?? false) ||
      (match.slot !== undefined && a.startsWith(`${NODE_NET}.${match.slot}.`)),
  );
  ipBatch(
    ours.map((a) => `addr del ${a}/32 dev lo`),
    `removing ${ours.length} addresses from lo`,
  );
}
