// Runtime faults read at start of every stand-in command (see fleet/faults.ts).
import { readFaults, updateFaults } from '../faultfile';
import { ExitError } from './errors';
import { hostEnv } from './env';

function defaultMessage(line: string): ExitError {
  if (line.startsWith('kubeadm join')) {
    return new ExitError('error execution phase preflight: couldn\'t validate the identity of the API Server: failed to request the cluster-info ConfigMap: Get "https://127.0.30.1:6443/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": net/http: TLS handshake timeout');
  }
  if (line.startsWith('kubeadm')) {
    const v = hostEnv().version;
    return new ExitError(`error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR ImagePull]: failed to pull image registry.k8s.io/kube-apiserver:${v}: output: E0000 pull image: rpc error: code = DeadlineExceeded desc = failed to pull and unpack image "registry.k8s.io/kube-apiserver:${v}": context deadline exceeded\n, error: exit status 1\n[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``);
  }
  return new ExitError('Unable to connect to the server: net/http: TLS handshake timeout', 1, false);
}

export async function applyFaults(tool: string, argv: string[]): Promise<void> {
  const e = hostEnv();
  const line = [tool, ...argv].join(' ');
  const faults = readFaults(e.dir).hosts[e.host]?.commands ?? [];
  const f = faults.find((c) => line === c.command || line.startsWith(c.command + ' ') || (c.command.endsWith(' ') && line.startsWith(c.command)));
  if (!f) return;
  if (f.mode === 'slow') await new Promise((r) => setTimeout(r, f.delayMs ?? 5000));
  if (f.mode === 'hang') await new Promise(() => setInterval(() => undefined, 1 << 30));
  if (f.mode === 'fail-once') {
    const fire = updateFaults(e.dir, (ff) => {
      const c = ff.hosts[e.host]?.commands.find((x) => x.command === f.command && x.mode === 'fail-once');
      if (!c || c.consumed) return false;
      c.consumed = true;
      return true;
    });
    if (fire) throw f.message ? new ExitError(f.message, 1, tool === 'kubeadm') : defaultMessage(line);
  }
}
