// Runtime faults (see fleet/faults.ts), read from the fault file when a stand-in command starts and
// at each kubeadm phase that can carry one, so a test can switch them while a run goes on.
import { readFaults, stoppedComponents, updateFaults } from '../faultfile';
import { CommandFault, ControlPlaneComponent } from '../types';
import { ExitError } from './errors';
import { hostEnv } from './env';

function defaultMessage(line: string): ExitError {
  if (line.startsWith('kubeadm join')) {
    return new ExitError(
      `error execution phase preflight: couldn't validate the identity of the API Server: failed to request the cluster-info ConfigMap: Get "https://${hostEnv().lb}:6443/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": net/http: TLS handshake timeout`,
    );
  }
  if (line.startsWith('kubeadm')) {
    const v = hostEnv().version;
    return new ExitError(
      `error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR ImagePull]: failed to pull image registry.k8s.io/kube-apiserver:${v}: output: E0000 pull image: rpc error: code = DeadlineExceeded desc = failed to pull and unpack image "registry.k8s.io/kube-apiserver:${v}": context deadline exceeded\n, error: exit status 1\n[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``,
    );
  }
  // The network stand-ins (net.ts): what a busy or refusing kernel answers.
  if (/^ip6?tables-(save|restore) /.test(line + ' '))
    return new ExitError(
      'Another app is currently holding the xtables lock. Perhaps you want to use the -w option?',
      4,
      false,
    );
  if (line.startsWith('ip ')) return new ExitError('RTNETLINK answers: Device or resource busy', 2, false);
  if (line.startsWith('ipvsadm')) return new ExitError('Memory allocation problem', 1, false);
  return new ExitError('Unable to connect to the server: net/http: TLS handshake timeout', 1, false);
}

/** "etcd" names kubeadm's phase "control-plane-join/etcd" too. */
const phaseMatches = (wanted: string | undefined, phase: string | undefined): boolean =>
  wanted === phase || (!!wanted && !!phase && phase.endsWith(`/${wanted}`));

function find(line: string, phase: string | undefined): CommandFault | undefined {
  const e = hostEnv();
  const faults = readFaults(e.dir).hosts[e.host]?.commands ?? [];
  return faults.find(
    (c) =>
      (line === c.command ||
        line.startsWith(c.command + ' ') ||
        (c.command.endsWith(' ') && line.startsWith(c.command))) &&
      phaseMatches(c.phase, phase),
  );
}

async function act(f: CommandFault, tool: string, failure: () => ExitError): Promise<void> {
  const e = hostEnv();
  if (f.mode === 'slow') await new Promise((r) => setTimeout(r, f.delayMs ?? 5000));
  if (f.mode === 'hang') await new Promise(() => setInterval(() => undefined, 1 << 30));
  let fire = f.mode === 'fail';
  if (f.mode === 'fail-once') {
    fire = updateFaults(e.dir, (ff) => {
      const c = ff.hosts[e.host]?.commands.find(
        (x) => x.command === f.command && x.mode === 'fail-once' && x.phase === f.phase,
      );
      if (!c || c.consumed) return false;
      c.consumed = true;
      return true;
    });
  }
  if (fire) throw f.message ? new ExitError(f.message, 1, tool === 'kubeadm') : failure();
}

/** Faults without a phase act when the command starts. */
export async function applyFaults(tool: string, argv: string[]): Promise<void> {
  const line = [tool, ...argv].join(' ');
  const f = find(line, undefined);
  if (f) await act(f, tool, () => defaultMessage(line));
}

/** A fault for `phase` of this kubeadm command acts here; `failure` is what kubeadm prints when the phase fails. */
export async function phaseFault(phase: string, failure: () => ExitError): Promise<void> {
  const f = find(['kubeadm', ...process.argv.slice(2)].join(' '), phase);
  if (f) await act(f, 'kubeadm', failure);
}

/** The control-plane components a `stop` fault holds down on this host. */
export function stoppedHere(): ControlPlaneComponent[] {
  const e = hostEnv();
  return stoppedComponents(e.dir, e.host);
}
