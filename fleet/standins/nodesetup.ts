// Steps shared by init and join: kubelet credentials, starting the daemons, health waits.
import * as fs from 'node:fs';
import { apiRequest } from './http';
import { daemonRunning, startDaemon, DaemonKind } from './daemons';
import { kubeconfigText } from './kubeconfig';
import { ExitError } from './errors';
import { WAIT_CONTROL_PLANE_FAILED } from './texts';

export const out = (...lines: string[]): void => {
  for (const l of lines) process.stdout.write(l + '\n');
};

export function writeKubeletClient(certPem: string, keyPem: string): string {
  fs.mkdirSync('/var/lib/kubelet/pki', { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const file = `/var/lib/kubelet/pki/kubelet-client-${stamp}.pem`;
  fs.writeFileSync(file, certPem + keyPem, { mode: 0o600 });
  const current = '/var/lib/kubelet/pki/kubelet-client-current.pem';
  fs.rmSync(current, { force: true });
  fs.symlinkSync(file, current);
  return current;
}

/** kubelet.conf after kubelet-finalize: points at the rotatable client certificate. */
export function writeKubeletConf(server: string, caPem: string, clusterName: string, nodeName: string): void {
  const pem = '/var/lib/kubelet/pki/kubelet-client-current.pem';
  const text = kubeconfigText({
    clusterName,
    server,
    caPem,
    user: `system:node:${nodeName}`,
    certFile: pem,
    keyFile: pem,
  });
  fs.writeFileSync('/etc/kubernetes/kubelet.conf', text, { mode: 0o600 });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function fmtSeconds(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(6)}ms` : `${(ms / 1000).toFixed(9)}s`;
}

/** Starts a daemon and waits until it answers on its port (or died). Returns elapsed ms. */
export async function startAndWait(
  kind: DaemonKind,
  url: string,
  caPem: string | undefined,
  timeoutMs: number,
): Promise<number> {
  const t = performance.now();
  startDaemon(kind);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!daemonRunning(kind)) break;
    try {
      if (url.startsWith('https')) {
        const r = await apiRequest({ server: url, path: '/healthz', caPem, timeoutMs: 1000 });
        if (r.status === 200) return performance.now() - t;
      } else {
        const r = await fetch(url + '/healthz', { signal: AbortSignal.timeout(1000) });
        if (r.status === 200) return performance.now() - t;
      }
    } catch {
      /* not up yet */
    }
    await sleep(50);
  }
  throw new ExitError(WAIT_CONTROL_PLANE_FAILED);
}
