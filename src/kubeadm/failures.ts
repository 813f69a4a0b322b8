// Classifies a failed kubeadm command by what heals it. A transient failure (kubelet-start or
// TLS-bootstrap timeouts, discovery timeouts, an API server or etcd not yet reachable, a node left
// half-done by an earlier attempt) is healed by `kubeadm reset -f` and a new attempt; anything else
// (bad config, a refused token or CA hash, preflight on a clean node) needs an operator.
// Texts: kubeadm cmd/kubeadm/app/preflight/checks.go, cmd/kubeadm/app/cmd/phases/join/*.go,
// cmd/kubeadm/app/discovery/token/token.go, cmd/kubeadm/app/util/error.go.

import { redact } from '../common/redact';
export type KubeadmFailureKind =
  | 'preflight'
  | 'missing-shared-certs'
  | 'no-control-plane-endpoint'
  | 'discovery-token'
  | 'discovery-ca-hash'
  | 'discovery-unreachable'
  | 'certificate-key'
  | 'config-invalid'
  | 'kubelet-start'
  | 'etcd-join'
  | 'wait-control-plane'
  | 'incomplete'
  | 'unknown';

export interface KubeadmFailure {
  kind: KubeadmFailureKind;
  /** Healed by resetting the node and running the step again; otherwise an operator must act. */
  transient: boolean;
  /** One line, < 300 chars, tokens and keys redacted, says what to do. */
  summary: string;
  /** Check names from "[ERROR <Name>]: ..." lines, e.g. "Port-6443". */
  preflightErrors: string[];
}

const MAX_SUMMARY = 299;

function summary(text: string): string {
  const s = redact(text).replace(/\s+/g, ' ').trim();
  return s.length > MAX_SUMMARY ? `${s.slice(0, MAX_SUMMARY - 1)}…` : s;
}

function result(
  kind: KubeadmFailureKind,
  transient: boolean,
  text: string,
  preflightErrors: string[] = [],
): KubeadmFailure {
  return { kind, transient, summary: summary(text), preflightErrors };
}

interface PreflightError {
  name: string;
  message: string;
}

function preflightErrorsOf(text: string): PreflightError[] {
  const out: PreflightError[] = [];
  for (const m of text.matchAll(/\[ERROR ([^\]\s]+)\]: ([^\n]*)/g)) {
    if (!out.some((e) => e.name === m[1])) out.push({ name: m[1], message: m[2].trim() });
  }
  return out;
}

/** Files/dirs whose presence is what a re-run of init or join trips over (the FileAvailable/DirAvailable checks of checks.go). */
const DONE_EVIDENCE =
  /^FileAvailable--etc-kubernetes-(kubelet\.conf|manifests-(kube-apiserver|kube-controller-manager|kube-scheduler|etcd)\.yaml)$/;
const DONE_COMPATIBLE =
  /^(Port-(6443|\d+)|FileAvailable--etc-kubernetes-.*|DirAvailable--var-lib-etcd|DirAvailable--etc-kubernetes-manifests)$/;

/**
 * True when a preflight failure shows the node already ran init/join: kubelet.conf or a kubeadm
 * static-pod manifest exists and every other error is a port/file left by that run. Ports alone
 * (e.g. Port-6443) are not enough: a load balancer on the node may hold them.
 */
export function alreadyDoneBy(f: KubeadmFailure): boolean {
  if (f.kind !== 'preflight' || f.preflightErrors.length === 0) return false;
  return (
    f.preflightErrors.some((n) => DONE_EVIDENCE.test(n)) && f.preflightErrors.every((n) => DONE_COMPATIBLE.test(n))
  );
}

function lastErrorLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('To see the stack trace'));
  return (
    lines.find((l) => /^error execution phase/.test(l)) ??
    lines.find((l) => /^(error|Error|unknown flag)/.test(l)) ??
    lines[lines.length - 1] ??
    ''
  );
}

export function classifyKubeadmFailure(exitCode: number | null, stdout: string, stderr: string): KubeadmFailure {
  const text = `${stdout ?? ''}\n${stderr ?? ''}`.replace(/\r\n?/g, '\n');

  // cmd/kubeadm/app/preflight/checks.go: "[preflight] Some fatal errors occurred:" + "\t[ERROR <Name>]: <msg>" lines.
  const pf = preflightErrorsOf(text);
  if (pf.length > 0) {
    const names = pf.map((e) => e.name);
    const f = result('preflight', false, '', names);
    // Files left by an earlier init/join: resetting the node heals it.
    f.transient = alreadyDoneBy(f);
    const list = pf.map((e) => (pf.length <= 2 ? `${e.name} (${e.message})` : e.name)).join(', ');
    const advice = f.transient
      ? "an earlier kubeadm init/join left its files on the node: 'kubeadm reset -f' clears them before the next attempt"
      : 'fix the node (or skip a check with --ignore-preflight-errors=<name>), then retry';
    f.summary = summary(`kubeadm preflight failed, ${advice}. Checks: ${list}`);
    return f;
  }

  // Flag and config problems (cobra's unknown flag, the config decoder's strict errors): rerunning the same command cannot succeed.
  if (/can not mix '--config' with arguments/.test(text)) {
    const m = /can not mix '--config' with arguments \[([^\]]*)\]/.exec(text);
    return result(
      'config-invalid',
      false,
      `kubeadm refused the command line: --config cannot be combined with [${m?.[1] ?? ''}]; move those settings into the config file`,
    );
  }
  const cfg =
    /unknown flag: \S+/.exec(text) ??
    /no kind "[^"]+" is registered for version "[^"]+"/.exec(text) ??
    /your configuration file uses an? (old|new|unsupported)[^\n]*/i.exec(text) ??
    /(unknown|unsupported|unrecognized) apiVersion[^\n]*/i.exec(text) ??
    /strict decoding error[^\n]*/.exec(text) ??
    /invalid configuration for GroupVersionKind[^\n]*/.exec(text);
  if (cfg) {
    return result(
      'config-invalid',
      false,
      `kubeadm rejected its command line or config: ${cfg[0]}. Render the config for this kubeadm version and rerun`,
    );
  }

  // cmd/kubeadm/app/cmd/phases/join/preflight.go: control-plane join preconditions.
  if (/doesn't have a stable controlPlaneEndpoint address/.test(text)) {
    return result(
      'no-control-plane-endpoint',
      false,
      'The cluster has no controlPlaneEndpoint, so control planes cannot join: it must be set at kubeadm init (ClusterConfiguration.controlPlaneEndpoint); rebuild the first control plane',
    );
  }
  if (
    /conditions for hosting a new control plane instance is not satisfied/.test(text) ||
    /failure loading (certificate|key) for/.test(text)
  ) {
    const missing = [
      ...new Set([...text.matchAll(/couldn't load the (?:certificate|private key) file (\S+?):/g)].map((m) => m[1])),
    ];
    const what = missing.length > 0 ? missing.join(', ') : 'the shared CA and service-account files';
    return result(
      'missing-shared-certs',
      false,
      `Control-plane join found no shared certificates: missing ${what}. Copy them from the first control plane (or use --upload-certs with a certificate key), then rerun`,
    );
  }

  // cmd/kubeadm/app/phases/copycerts/copycerts.go: the kubeadm-certs Secret and its certificate key.
  if (/Secret "kubeadm-certs" was not found/.test(text)) {
    return result(
      'certificate-key',
      false,
      'The kubeadm-certs Secret is gone (it expires after two hours): run kubeadm init phase upload-certs --upload-certs --certificate-key <key> on a control plane, then kubeadm reset -f here and rejoin',
    );
  }
  if (
    /error decoding secret data with provided key|cipher: message authentication failed|error decoding certificate key|the Secret does not include the required certificate or key/.test(
      text,
    )
  ) {
    return result(
      'certificate-key',
      false,
      'The certificate key does not decrypt the kubeadm-certs Secret (wrong, superseded or malformed key): re-upload the certs with the key you pass, then kubeadm reset -f here and rejoin',
    );
  }

  // cmd/kubeadm/app/discovery/token/token.go: discovery.
  if (/none of the public keys "[^"]*" are pinned|invalid hash[ ,"]|expected a 32 byte SHA-256 hash/.test(text)) {
    return result(
      'discovery-ca-hash',
      false,
      'The CA hash given to kubeadm (--discovery-token-ca-cert-hash) is malformed or does not match the cluster CA: recompute it from /etc/kubernetes/pki/ca.crt on a control plane',
    );
  }
  if (
    /could not find a JWS signature in the cluster-info ConfigMap for token ID|is invalid for this cluster or it has expired|the bootstrap token "[^"]*" was not of the form/.test(
      text,
    )
  ) {
    return result(
      'discovery-token',
      false,
      'The bootstrap token is unknown, expired or malformed: create a new one with kubeadm token create on a control plane and rejoin',
    );
  }
  if (/failed to request the cluster-info ConfigMap|couldn't validate the identity of the API Server/.test(text)) {
    const why =
      /(connection refused|context deadline exceeded|Client\.Timeout exceeded|no route to host|i\/o timeout|network is unreachable|no such host)/i.exec(
        text,
      );
    return result(
      'discovery-unreachable',
      true,
      `Join could not reach the API server through the control-plane endpoint${why ? ` (${why[1]})` : ''}: check the load balancer and that a control plane is up, then retry`,
    );
  }

  // A join's kubelet-start phase: the TLS bootstrap or the Node registration timed out (kubelet
  // slow to start, API server busy). kubelet.conf may already exist; reset and rejoin heals it.
  if (/error execution phase kubelet-start/.test(text)) {
    return result(
      'kubelet-start',
      true,
      `kubelet-start did not finish (${lastErrorLine(text).replace(/^error execution phase kubelet-start: /, '')}): the node is reset and joined again`,
    );
  }
  // A control plane's local etcd member could not join (not enough started members, or the
  // cluster was briefly unhealthy): reset removes the member, and a new attempt adds it again.
  if (
    /error execution phase (control-plane-join\/etcd|check-etcd)|etcdserver: |etcd cluster is not healthy/.test(text)
  ) {
    return result(
      'etcd-join',
      true,
      `the local etcd member did not join (${lastErrorLine(text)}): the node is reset and joined again`,
    );
  }
  if (
    /error execution phase wait-control-plane|error execution phase upload-config|couldn't initialize a Kubernetes cluster/.test(
      text,
    )
  ) {
    return result(
      'wait-control-plane',
      true,
      `The control plane did not become healthy (${lastErrorLine(text)}): the node is reset and the step runs again; if it keeps failing check the kubelet (journalctl -xeu kubelet) and the container runtime`,
    );
  }
  if (exitCode === null) {
    return result(
      'incomplete',
      true,
      'kubeadm did not finish (killed or timed out); the node is reset before the next attempt',
    );
  }
  if (/timed out waiting for the condition/.test(text)) {
    return result(
      'kubelet-start',
      true,
      `kubeadm timed out waiting (${lastErrorLine(text)}): the node is reset and the step runs again`,
    );
  }
  const last = lastErrorLine(text);
  return result('unknown', false, `kubeadm failed (exit ${exitCode})${last ? `: ${last}` : ''}`);
}
