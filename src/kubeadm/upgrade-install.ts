// What an upgrade does on a node besides kubeadm's own commands, in the upgrade page's words
// (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/): install the new
// kubeadm, kubelet and kubectl (the distribution's packages, or binaries), restart the kubelet,
// drain and uncordon; and before each hop a backup: an etcd snapshot (the page: "Make sure to back
// up any important components, such as app-level state stored in a database"; etcd's "Operating
// etcd clusters for Kubernetes": `etcdctl snapshot save`) and /etc/kubernetes/pki and the
// manifests, as kubeadm's own upgrade backs them up (cmd/kubeadm/app/phases/upgrade/staticpods.go).
// Pure: no I/O.
import { shellQuote } from '../common/shell-quote';
import { etcdctlCommand } from './etcd';
import { CA_CERT, KUBECTL, STATE_DIR } from './paths';
import { kubeVersionString, parseKubeVersion } from './version';

/** The binaries an upgrade replaces, where the packages put them. */
export const UPGRADE_BINARIES = ['kubeadm', 'kubelet', 'kubectl'] as const;
export type UpgradeBinary = (typeof UPGRADE_BINARIES)[number];
export const binaryPath = (name: UpgradeBinary): string => `/usr/bin/${name}`;

/** The upgrade page's restart of the kubelet after its package: "sudo systemctl daemon-reload; sudo systemctl restart kubelet". */
export const KUBELET_RESTART = 'systemctl daemon-reload && systemctl restart kubelet';

/**
 * The digest of a `.sha256` file as dl.k8s.io publishes it beside each binary (the hex digest
 * alone), or as sha256sum prints it ("<hex>  <name>").
 */
export function parseSha256File(text: string, what: string): string {
  const m = /^([0-9a-f]{64})(?:\s+\*?\S+)?\s*$/i.exec((text ?? '').trim());
  if (!m) throw new Error(`${what}: not a SHA-256 digest (64 hex characters, as dl.k8s.io's .sha256 files hold)`);
  return m[1].toLowerCase();
}

/** Where the binaries folder keeps a release's binary: `<folder>/<version>/<name>`, and its digest at `<name>.sha256`. */
export const binaryInFolder = (folder: string, version: string, name: UpgradeBinary): string =>
  `${folder.replace(/\/+$/, '')}/${kubeVersionString(parseKubeVersion(version))}/${name}`;

/**
 * The page's package upgrade for apt: "apt-mark unhold kubeadm && apt-get update && apt-get install
 * -y kubeadm='1.37.2-*' && apt-mark hold kubeadm" (pkgs.k8s.io versions are "1.37.2-1.1"), for
 * each named package. Holding again keeps an unattended upgrade from moving them.
 */
export function aptInstallCommand(names: readonly UpgradeBinary[], version: string): string {
  const v = parseKubeVersion(version);
  const exact = `${v.major}.${v.minor}.${v.patch}-*`;
  const list = names.join(' ');
  return [
    `apt-mark unhold ${list}`,
    'apt-get update',
    `DEBIAN_FRONTEND=noninteractive apt-get install -y ${names.map((n) => `${n}=${shellQuote(exact)}`).join(' ')}`,
    `apt-mark hold ${list}`,
  ].join(' && ');
}

/** Where a hop's backup goes on the first control plane (root only). */
export const backupDir = (version: string): string =>
  `${STATE_DIR}/backups/${kubeVersionString(parseKubeVersion(version))}`;

export const SNAPSHOT_FILE = 'etcd-snapshot.db';
export const PKI_ARCHIVE = 'pki-and-manifests.tar.gz';

/**
 * The backup before a hop: `etcdctl snapshot save` inside the node's etcd static pod when etcd is
 * stacked (its data folder is the host's /var/lib/etcd, so the snapshot lands on the host), or with
 * the host's own etcdctl on an etcd host; then (unless `archive` is false: an etcd host's run)
 * /etc/kubernetes/pki and the manifests in one archive.
 * Prints a digest line for each file it wrote (parseSha256sum). Made again from scratch when it runs again.
 */
export function backupCommand(
  version: string,
  etcd: { stackedNode: string } | { etcdHost: string } | undefined,
  archive = true,
): string {
  const dir = backupDir(version);
  const snapshot = `${dir}/${SNAPSHOT_FILE}`;
  const inPod = '/var/lib/etcd/kubeadm-ha-snapshot.db';
  const save =
    etcd === undefined
      ? []
      : 'stackedNode' in etcd
        ? [
            `rm -f ${inPod}`,
            etcdctlCommand(KUBECTL, etcd.stackedNode, ['snapshot', 'save', inPod]),
            `mv -f ${inPod} ${shellQuote(snapshot)}`,
          ]
        : [
            `ETCDCTL_API=3 etcdctl --endpoints=${shellQuote(`https://${etcd.etcdHost}:2379`)} ` +
              '--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt ' +
              `--key=/etc/kubernetes/pki/etcd/healthcheck-client.key snapshot save ${shellQuote(snapshot)}`,
          ];
  return [
    'set -e',
    'umask 077',
    `rm -rf ${shellQuote(dir)}`,
    `mkdir -p ${shellQuote(dir)}`,
    ...save,
    ...(archive ? [`tar -C /etc/kubernetes -czf ${shellQuote(`${dir}/${PKI_ARCHIVE}`)} pki manifests`] : []),
    // "sha256:" before each digest: output is redacted, and a bare 64-hex string reads as a certificate key.
    `cd ${shellQuote(dir)} && sha256sum${etcd ? ` ${SNAPSHOT_FILE}` : ''}${archive ? ` ${PKI_ARCHIVE}` : ''} | sed 's/^/sha256:/'`,
  ].join('\n');
}

/** backupCommand's digest lines ("sha256:<hex>  <file>"): file name to digest. */
export function parseSha256sum(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (stdout ?? '').split('\n')) {
    const m = /^sha256:([0-9a-f]{64}) [ *](\S+)$/.exec(line.trim());
    if (m) out[m[2]] = m[1];
  }
  return out;
}

/** How many workers are upgraded at once: a count, or a percentage of the workers (at least one). */
export function workerBatchSize(batch: number | string, workers: number): number {
  if (typeof batch === 'number') return Math.max(1, Math.min(batch, Math.max(workers, 1)));
  const pct = Number(/^(\d+)%$/.exec(batch)?.[1]);
  if (!Number.isFinite(pct) || pct < 1 || pct > 100) throw new Error(`workerBatch: ${batch} is not a percentage`);
  return Math.max(1, Math.ceil((workers * pct) / 100));
}

/** The Node's kubelet version, Ready status and whether it is cordoned: "v1.37.2 True true". */
export const nodeStatusCommand = (kubectl: string, node: string): string =>
  `${kubectl} get node ${shellQuote(node)} -o jsonpath='{.status.nodeInfo.kubeletVersion} ` +
  `{.status.conditions[?(@.type=="Ready")].status} {.spec.unschedulable}'`;

export interface NodeStatus {
  kubeletVersion: string;
  ready: boolean;
  cordoned: boolean;
}

export function parseNodeStatus(stdout: string): NodeStatus | undefined {
  const [kubeletVersion, ready, cordoned] = (stdout ?? '').trim().split(/\s+/);
  if (!kubeletVersion || !/^v\d/.test(kubeletVersion)) return undefined;
  return { kubeletVersion, ready: ready === 'True', cordoned: cordoned === 'true' };
}

/**
 * The node's own API server's /readyz, checked against the cluster CA ("ok" once every readiness
 * check passed, RBAC's bootstrap roles among them); /readyz is readable without credentials
 * (the system:public-info-viewer role).
 */
export const apiServerReadyCommand = (address: string): string =>
  `curl -sS --max-time 5 --cacert ${CA_CERT} ${shellQuote(`https://${address.includes(':') ? `[${address}]` : address}:6443/readyz`)}`;
