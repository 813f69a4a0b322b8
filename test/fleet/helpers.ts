// Helpers for driving the fleet over real SSH (strict host-key checking against the fleet's
// known_hosts), as the orchestrator does.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function ssh(dir: string, address: string, command: string, opts: { user?: string; input?: string } = {}): Run {
  const r = spawnSync(
    'ssh',
    [
      '-i', path.join(dir, 'id_ed25519'), '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-p', '2222', `${opts.user ?? 'kha'}@${address}`, command,
    ],
    { input: opts.input, encoding: 'utf8', timeout: 120000 },
  );
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Writes a file on the host through SSH (like the orchestrator's upload). */
export function put(dir: string, address: string, file: string, content: string): void {
  const r = ssh(dir, address, `sudo -n mkdir -p ${path.dirname(file)} && sudo -n tee ${file} >/dev/null`, { input: content });
  if (r.code !== 0) throw new Error(`put ${file} failed: ${r.stderr}`);
}

export function sh(cmd: string): string {
  return spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout ?? '';
}

/** Which apiserver answered through the LB (the stand-in sets x-fleet-node). */
export function lbBackend(): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.30.1', port: 6443, path: '/healthz', rejectUnauthorized: false, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(String(res.headers['x-fleet-node'] ?? ''));
    });
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

export function joinConfig(o: { token: string; hash: string; name: string; cpAddress?: string; discovery?: string }): string {
  return [
    'apiVersion: kubeadm.k8s.io/v1beta4',
    'kind: JoinConfiguration',
    'discovery:',
    '  bootstrapToken:',
    '    apiServerEndpoint: "127.0.30.1:6443"',
    `    token: "${o.token}"`,
    `    caCertHashes: ["${o.hash}"]`,
    'timeouts:',
    `  discovery: ${o.discovery ?? '20s'}`,
    'nodeRegistration:',
    `  name: ${o.name}`,
    ...(o.cpAddress ? ['controlPlane:', '  localAPIEndpoint:', `    advertiseAddress: ${o.cpAddress}`, '    bindPort: 6443'] : []),
    '',
  ].join('\n');
}

export const INIT_CONFIG = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 127.0.10.1
  bindPort: 6443
nodeRegistration:
  name: cp1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.31.4
controlPlaneEndpoint: "127.0.30.1:6443"
apiServer:
  certSANs: ["127.0.30.1"]
networking:
  podSubnet: 192.168.0.0/16
`;
