// Preflight checks (names, messages and order as kubeadm's checks.go), per-host: ports are checked
// on the host's own loopback address because all hosts share one network namespace.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { phaseError } from './errors';
import { preflightBlock } from './texts';

export interface Check {
  name: string;
  /** Returns the failure message, or null when fine. */
  run(): Promise<string | null>;
}

export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(true));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(false)));
  });
}

export const portCheck = (host: string, port: number): Check => ({
  name: `Port-${port}`,
  run: async () => ((await portInUse(host, port)) ? `Port ${port} is in use` : null),
});

const dashed = (p: string): string => p.replace(/\//g, '-');

export const fileAvailable = (path: string): Check => ({
  name: `FileAvailable-${dashed(path)}`,
  run: async () => (fs.existsSync(path) ? `${path} already exists` : null),
});

export const dirAvailable = (path: string): Check => ({
  name: `DirAvailable-${dashed(path)}`,
  run: async () => {
    try {
      return fs.readdirSync(path).length ? `${path} is not empty` : null;
    } catch {
      return null;
    }
  },
});

export const privilegedUser = (): Check => ({
  name: 'IsPrivilegedUser',
  run: async () => (process.getuid?.() === 0 ? null : 'user is not running as root'),
});

/** Runs checks in order; ignored ones become warnings; errors fail the preflight phase. */
export async function runChecks(checks: Check[], ignore: string[]): Promise<void> {
  const ign = ignore.map((s) => s.toLowerCase());
  const errors: string[] = [];
  for (const c of checks) {
    const msg = await c.run();
    if (!msg) continue;
    if (ign.includes('all') || ign.includes(c.name.toLowerCase()))
      process.stderr.write(`\t[WARNING ${c.name}]: ${msg}\n`);
    else errors.push(`${c.name}]: ${msg}`);
  }
  if (errors.length) throw phaseError('preflight', preflightBlock(errors));
}

export function controlPlanePortChecks(address: string, bindPort: number, minor: number): Check[] {
  const [sched, cm] = minor <= 16 ? [10251, 10252] : [10259, 10257];
  return [portCheck(address, bindPort), portCheck(address, sched), portCheck(address, cm)];
}

export const MANIFESTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map(
  (n) => `/etc/kubernetes/manifests/${n}.yaml`,
);

export function localEtcdChecks(address: string): Check[] {
  return [portCheck(address, 2379), portCheck(address, 2380), dirAvailable('/var/lib/etcd')];
}

/** An existing file (FileExistingCheck; kubeadm labels the external etcd ones ExternalEtcdClientCertificates). */
export const fileExisting = (path: string, label?: string): Check => ({
  name: label ?? `FileExisting-${dashed(path)}`,
  run: async () => (fs.existsSync(path) ? null : `${path} doesn't exist`),
});

/**
 * RunInitNodeChecks with etcd.external (cmd/kubeadm/app/preflight/checks.go): caFile, certFile and
 * keyFile must exist, except on a control-plane join that downloads the certificates.
 */
export function externalEtcdChecks(
  ext: { caFile?: string; certFile?: string; keyFile?: string },
  downloadCerts = false,
): Check[] {
  if (downloadCerts) return [];
  return [ext.caFile, ext.certFile, ext.keyFile]
    .filter((f): f is string => !!f)
    .map((f) => fileExisting(f, 'ExternalEtcdClientCertificates'));
}
