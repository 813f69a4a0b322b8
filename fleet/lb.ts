// The load balancer: a real HAProxy in TCP mode with TCP health checks on every control plane,
// plus the iptables blackhole used by the "drop" fault.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LB_PORT, iptablesTag, lbDir } from './layout';
import { alive, readPid, sh, stopPidFile, waitForPidFile } from './proc';

export function writeHaproxyConfig(
  dir: string,
  address: string,
  controlPlanes: Array<{ name: string; address: string }>,
): string {
  const d = lbDir(dir);
  fs.mkdirSync(d, { recursive: true });
  const cfg = [
    'global',
    '    maxconn 4000',
    // Quoted: the fleet folder may have a space in its path.
    `    stats socket "${d}/haproxy.sock" mode 600 level admin`,
    'defaults',
    '    mode tcp',
    '    timeout connect 3s',
    '    timeout client 300s',
    '    timeout server 300s',
    '    timeout check 1s',
    'frontend apiserver',
    `    bind ${address}:${LB_PORT}`,
    '    default_backend controlplanes',
    'backend controlplanes',
    '    balance roundrobin',
    // TCP connect check, as the HA guide asks; quick so a freshly started apiserver is routed soon.
    '    default-server check inter 500ms fall 2 rise 1',
    ...controlPlanes.map((c) => `    server ${c.name} ${c.address}:${LB_PORT}`),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(d, 'haproxy.cfg'), cfg);
  return path.join(d, 'haproxy.cfg');
}

export function startHaproxy(dir: string): number {
  const d = lbDir(dir);
  const pidFile = path.join(d, 'haproxy.pid');
  const running = readPid(pidFile);
  if (alive(running)) return running!;
  sh('haproxy', ['-c', '-q', '-f', path.join(d, 'haproxy.cfg')]);
  sh('haproxy', ['-f', path.join(d, 'haproxy.cfg'), '-D', '-p', pidFile]);
  return waitForPidFile(pidFile, `haproxy did not start; check ${path.join(d, 'haproxy.cfg')}`);
}

export function stopHaproxy(dir: string): void {
  stopPidFile(path.join(lbDir(dir), 'haproxy.pid'), 'haproxy');
}

export function haproxyPid(dir: string): number {
  const pid = readPid(path.join(lbDir(dir), 'haproxy.pid'));
  return alive(pid) ? pid! : 0;
}

/** Blackhole packets to the LB (or, with `port`, to another listener): connects then time out, as with a broken path. */
export function addDrop(dir: string, address: string, port = LB_PORT): void {
  const rule = [
    'OUTPUT',
    '-d',
    `${address}/32`,
    '-p',
    'tcp',
    '--dport',
    String(port),
    '-m',
    'comment',
    '--comment',
    iptablesTag(dir),
    '-j',
    'DROP',
  ];
  if (!hasDrop(dir, address, port)) sh('iptables', ['-I', ...rule]);
}

/** One of our drops is in place: any, or the one to that address and port. */
export function hasDrop(dir: string, address?: string, port?: number): boolean {
  return listOurRules(dir).some((r) => matches(r, address, port));
}

const matches = (rule: string, address?: string, port?: number): boolean =>
  (address === undefined || rule.includes(` -d ${address}/32 `)) &&
  (port === undefined || rule.includes(` --dport ${port} `));

/** Our rules, found by comment tag in `iptables -S` (works after a crash too). */
function listOurRules(dir: string): string[] {
  const tag = iptablesTag(dir);
  return sh('iptables', ['-S', 'OUTPUT'], { allowFail: true })
    .split('\n')
    .filter((l) => l.startsWith('-A ') && l.includes(tag));
}

/**
 * Deletes each listed rule as listed, so no address needs to be known (fleet.json may be gone);
 * with `address` and `port`, only the drop to that listener.
 */
export function removeDrops(dir: string, address?: string, port?: number): void {
  for (const rule of listOurRules(dir).filter((r) => matches(r, address, port)))
    sh('sh', ['-c', `iptables ${rule.replace(/^-A /, '-D ')}`], { allowFail: true });
}
