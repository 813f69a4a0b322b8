// The real kubeadm of the played release (fleet/real-kubeadm.ts), for what it does without a kubelet,
// a container runtime or a cluster: config validation, PKI, kubeconfigs, tokens, certificate keys.
// Its output is kubeadm's own, so it is passed through as it is.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { realKubeadm } from '../real-kubeadm';
import { ExitError, STACK_HINT } from './errors';
import { Parsed } from './flags';
import { parseKubeconfig } from './kubeconfig';
import { writeKubeletClient } from './nodesetup';

export { realKubeadm };

interface RealRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runReal(bin: string, args: string[]): RealRun {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** A failed run as the stand-in's failure: the same stderr and exit code (runMain re-adds the hint). */
export function realFailure(r: RealRun): ExitError {
  const hint = r.stderr.endsWith(STACK_HINT + '\n');
  const message = (hint ? r.stderr.slice(0, -STACK_HINT.length - 1) : r.stderr).replace(/\n$/, '');
  return new ExitError(message, r.code, hint);
}

/** Runs a whole command with the real binary: its stdout, stderr and exit code. */
export function passThrough(bin: string, args: string[]): number {
  const r = spawnSync(bin, args, { stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/**
 * Settles a config file as the real `kubeadm init/join --config` would: rejected with kubeadm's text
 * (e.g. an API version it no longer reads), or undefined. An unknown field is not fatal there: the
 * config loaders decode leniently after logging the strict error (LoadOrDefaultInitConfiguration in
 * cmd/kubeadm/app/util/config/initconfiguration.go, LoadJoinConfigurationFromFile in
 * joinconfiguration.go), so that comes back as the message of that warning.
 */
export function validateConfig(bin: string, file: string): { strictError?: string } {
  const r = runReal(bin, ['config', 'validate', '--config', file]);
  if (r.code === 0) return {};
  const strict = /^error: (.*strict decoding error: .*)\n/m.exec(r.stderr);
  if (strict) return { strictError: strict[1] };
  throw realFailure(r);
}

/** The init flags each phase also takes (`kubeadm init phase certs all --help`, `... kubeconfig all --help`). */
const PHASE_FLAGS = {
  certs: [
    'config',
    'apiserver-advertise-address',
    'apiserver-cert-extra-sans',
    'cert-dir',
    'control-plane-endpoint',
    'kubernetes-version',
    'service-cidr',
    'service-dns-domain',
  ],
  kubeconfig: [
    'config',
    'apiserver-advertise-address',
    'apiserver-bind-port',
    'cert-dir',
    'control-plane-endpoint',
    'kubeconfig-dir',
    'kubernetes-version',
    'node-name',
  ],
};

/**
 * The certs or kubeconfig part of `kubeadm init`, done by the real `kubeadm init phase <phase> all`
 * with the init's own flags; returns its log lines, or undefined without a real binary. The
 * kubeconfig phase's kubelet.conf carries the node's client certificate: the kubelet's copy of it is
 * written as the stand-in's own phase does.
 */
export function realInitPhase(minor: number, phase: 'certs' | 'kubeconfig', p: Parsed): string[] | undefined {
  const bin = realKubeadm(minor);
  if (!bin) return undefined;
  const args = ['init', 'phase', phase, 'all'];
  for (const name of PHASE_FLAGS[phase]) {
    const v = p.values.get(name);
    if (v !== undefined) args.push(`--${name}=${Array.isArray(v) ? v.join(',') : v}`);
  }
  const r = runReal(bin, args);
  if (r.code !== 0) throw realFailure(r);
  if (phase === 'kubeconfig') {
    const kubelet = parseKubeconfig(fs.readFileSync('/etc/kubernetes/kubelet.conf', 'utf8'));
    writeKubeletClient(kubelet.certPem ?? '', kubelet.keyPem ?? '');
  }
  return r.stdout.replace(/\n$/, '').split('\n');
}
