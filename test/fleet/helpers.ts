// Helpers for driving the fleet over real SSH (strict host-key checking against the fleet's
// known_hosts), as the orchestrator does.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before } from 'node:test';
import { fleetDown, fleetUp, type FleetInfo, type FleetOptions } from '../../fleet';
import { HOST_MOUNTS } from '../../fleet/layout';
import { loadClusterFile } from '../../src/config/cluster-file';
import { openSession } from '../../src/ssh/session';
import { loadTarget } from '../../src/ssh/target';
import type { HostSession } from '../../src/ssh/types';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sshArgs(
  dir: string,
  address: string,
  command: string,
  user = 'kha',
  knownHosts = path.join(dir, 'known_hosts'),
): string[] {
  return [
    '-i',
    path.join(dir, 'id_ed25519'),
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    '-p',
    '2222',
    `${user}@${address}`,
    command,
  ];
}

export function ssh(
  dir: string,
  address: string,
  command: string,
  opts: { user?: string; input?: string; knownHosts?: string } = {},
): Run {
  const r = spawnSync('ssh', sshArgs(dir, address, command, opts.user, opts.knownHosts), {
    input: opts.input,
    encoding: 'utf8',
    timeout: 120000,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** An ssh session left running (to kill the remote command midway, or cut the connection). */
export function sshStart(dir: string, address: string, command: string): Promise<Run> {
  const child = spawn('ssh', sshArgs(dir, address, command), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b));
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** Polls `fn` until it returns something truthy. */
export async function waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 20000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A file on a host as the fleet manager sees it (hosts/<name>/<mount>/...). */
export function hostPath(dir: string, host: string, file: string): string {
  const m = HOST_MOUNTS.find(([target]) => file.startsWith(target + '/'));
  if (!m) throw new Error(`${file} is not under a host mount`);
  return path.join(dir, 'hosts', host, m[1], file.slice(m[0].length + 1));
}

/** Writes a file on the host through SSH (like the orchestrator's upload). */
export function put(dir: string, address: string, file: string, content: string): void {
  const r = ssh(dir, address, `sudo -n mkdir -p ${path.dirname(file)} && sudo -n tee ${file} >/dev/null`, {
    input: content,
  });
  if (r.code !== 0) throw new Error(`put ${file} failed: ${r.stderr}`);
}

export function sh(cmd: string): string {
  return spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout ?? '';
}

/** Which apiserver answered through the LB (the stand-in sets x-fleet-node). */
export function lbBackend(lb: string): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: lb, port: 6443, path: '/healthz', rejectUnauthorized: false, agent: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(String(res.headers['x-fleet-node'] ?? ''));
      },
    );
    req.on('error', () => resolve(''));
    req.on('timeout', () => (req.destroy(), resolve('')));
  });
}

export function pidsOf(dir: string): number[] {
  const out: number[] = [];
  const add = (f: string): void => {
    try {
      out.push(parseInt(fs.readFileSync(f, 'utf8'), 10));
    } catch {
      /* none */
    }
  };
  add(path.join(dir, 'lb', 'haproxy.pid'));
  for (const h of fs.readdirSync(path.join(dir, 'hosts'))) {
    const run = path.join(dir, 'hosts', h, 'run');
    for (const f of fs.existsSync(run) ? fs.readdirSync(run) : []) add(path.join(run, f));
  }
  return out.filter((n) => n > 1);
}

export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

export function joinConfig(o: {
  lb: string;
  token: string;
  hash: string;
  name: string;
  cpAddress?: string;
  discovery?: string;
}): string {
  return [
    'apiVersion: kubeadm.k8s.io/v1beta4',
    'kind: JoinConfiguration',
    'discovery:',
    '  bootstrapToken:',
    `    apiServerEndpoint: "${o.lb}:6443"`,
    `    token: "${o.token}"`,
    `    caCertHashes: ["${o.hash}"]`,
    'timeouts:',
    `  discovery: ${o.discovery ?? '20s'}`,
    'nodeRegistration:',
    `  name: ${o.name}`,
    ...(o.cpAddress
      ? ['controlPlane:', '  localAPIEndpoint:', `    advertiseAddress: ${o.cpAddress}`, '    bindPort: 6443']
      : []),
    '',
  ].join('\n');
}

/** With `etcdEndpoints`: etcd.external at kubeadm's default client-certificate paths. */
export function initConfig(cp1: string, lb: string, etcdEndpoints: string[] = []): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: ${cp1}
  bindPort: 6443
nodeRegistration:
  name: cp1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.31.4
controlPlaneEndpoint: "${lb}:6443"
apiServer:
  certSANs: ["${lb}"]
networking:
  podSubnet: 192.168.0.0/16
${
  etcdEndpoints.length
    ? `etcd:
  external:
    endpoints:
${etcdEndpoints.map((e) => `    - ${e}\n`).join('')}    caFile: /etc/kubernetes/pki/etcd/ca.crt
    certFile: /etc/kubernetes/pki/apiserver-etcd-client.crt
    keyFile: /etc/kubernetes/pki/apiserver-etcd-client.key
`
    : ''
}`;
}

/**
 * A stacked 2-control-plane cluster as fleet.test.ts builds it: kubeadm init on cp1, the shared
 * certificates copied by hand, then the control-plane join of cp2 (both through the LB).
 */
export function stackedControlPlanes(
  dir: string,
  cp1: string,
  cp2: string,
  lb: string,
): { token: string; hash: string } {
  put(dir, cp1, '/var/lib/kubeadm-ha/kubeadm-config.yaml', initConfig(cp1, lb));
  let r = ssh(dir, cp1, 'sudo -n kubeadm init --config /var/lib/kubeadm-ha/kubeadm-config.yaml');
  const m = /\nkubeadm join \S+ --token (\S+) \\\n\t--discovery-token-ca-cert-hash (sha256:[a-f0-9]{64}) \n$/.exec(
    r.stdout,
  );
  if (r.code !== 0 || !m) throw new Error(`kubeadm init failed: ${r.stderr}`);
  const files = 'ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key';
  const tar = ssh(dir, cp1, `sudo -n tar -C /etc/kubernetes/pki -cf - ${files} | base64 -w0`).stdout;
  if (
    ssh(dir, cp2, 'sudo -n mkdir -p /etc/kubernetes/pki && base64 -d | sudo -n tar -C /etc/kubernetes/pki -xf -', {
      input: tar,
    }).code !== 0
  )
    throw new Error('copying the shared certificates failed');
  put(
    dir,
    cp2,
    '/var/lib/kubeadm-ha/join-config.yaml',
    joinConfig({ lb, token: m[1], hash: m[2], name: 'cp2', cpAddress: cp2 }),
  );
  r = ssh(dir, cp2, 'sudo -n kubeadm join --config /var/lib/kubeadm-ha/join-config.yaml');
  if (r.code !== 0) throw new Error(`control-plane join failed: ${r.stderr}`);
  return { token: m[1], hash: m[2] };
}

/**
 * A real fleet brought up for a describe (`beforeUp` first), and an SSH session to its first control
 * plane; both gone after it. `run` fails the test unless the command exits with `exitCode`.
 */
export function realFleetWithSession(
  prefix: string,
  opts: Omit<FleetOptions, 'dir'>,
  beforeUp?: () => Promise<void>,
): { dir: string; fleet: FleetInfo; session: HostSession; run(cmd: string, exitCode?: number): Promise<string> } {
  const dir = fs.mkdtempSync(path.join(tmpdir(), prefix));
  const t = {
    dir,
    fleet: undefined as unknown as FleetInfo,
    session: undefined as unknown as HostSession,
    run: async (cmd: string, exitCode = 0): Promise<string> => {
      const r = await t.session.run(cmd);
      assert.equal(r.exitCode, exitCode, `${cmd}: ${r.stdout}${r.stderr}`);
      return r.stdout.trim();
    },
  };
  before(async () => {
    await beforeUp?.();
    t.fleet = await fleetUp({ dir, ...opts });
    const spec = loadClusterFile(t.fleet.clusterFile);
    t.session = await openSession(await loadTarget(spec.controlPlanes[0], spec.ssh));
  });
  after(async () => {
    await t.session?.close();
    await fleetDown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return t;
}
