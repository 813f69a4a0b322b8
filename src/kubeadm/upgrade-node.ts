// A node's own state in an upgrade: the versions it reports (kubeadm, the kubelet, its static pods'
// image tags), what is left of a hop on it, and how a failed kubeadm upgrade is reported. Pure: no I/O.
import { shellQuote } from '../common/shell-quote';
import { STATIC_PODS } from './host-facts';
import { MANIFESTS_DIR } from './paths';
import { exactVersion, type StaticPodName, VERSIONED_COMPONENTS } from './upgrade';
import { checkAbsolutePath } from './validate';
import { compareKubeVersions, kubeVersionString, parseKubeVersion, type KubeVersion } from './version';

const vs = kubeVersionString;

// ---- A node's own state ----------------------------------------------------------------------------
// What is left of a hop on one node, decided from what the node itself says (so a run resumes after
// any failure): the image tag of each static pod manifest in /etc/kubernetes/manifests (apply and
// upgrade node rewrite them: cmd/kubeadm/app/phases/upgrade/staticpods.go; a failed one rolls its
// components back from the backups, so a partly rolled-back control plane shows mixed tags), the
// kubelet's version (`kubelet --version`: "Kubernetes v1.36.3") and kubeadm's (`kubeadm version -o
// short`: "v1.36.3").

const PODS = STATIC_PODS as StaticPodName[];

/** What nodeVersionsCommand reports. */
export interface NodeVersions {
  /** `kubeadm version -o short`; absent when kubeadm is missing or failed. */
  kubeadm?: string;
  /** The version of `kubelet --version`; absent when the kubelet is missing or failed. */
  kubelet?: string;
  /** Per static pod manifest present: its image's tag ("v1.36.3"; etcd "3.6.8-0"), else the image as written. */
  staticPods: Partial<Record<StaticPodName, string>>;
}

/** Prints `kubeadm=`, `kubelet=` and `image.<component>=` for each manifest present, as key=value lines. */
export function nodeVersionsCommand(manifestsDir: string = MANIFESTS_DIR): string {
  const dir = shellQuote(checkAbsolutePath('manifestsDir', manifestsDir));
  return [
    'echo "kubeadm=$(kubeadm version -o short 2>/dev/null)"',
    'echo "kubelet=$(kubelet --version 2>/dev/null)"',
    `for c in ${PODS.join(' ')}; do f=${dir}/$c.yaml; if [ -e "$f" ]; then ` +
      `echo "image.$c=$(sed -n 's/^[[:space:]]*image:[[:space:]]*//p' "$f" | head -n 1)"; fi; done`,
  ].join('; ');
}

/** "v1.36.3" from `kubelet --version` ("Kubernetes v1.36.3"). */
export function parseKubeletVersion(stdout: string): string {
  const m = /^Kubernetes (v\d+\.\d+\.\d+\S*)$/.exec((stdout ?? '').trim());
  if (!m) throw new Error(`unrecognised kubelet --version output: ${JSON.stringify((stdout ?? '').slice(0, 80))}`);
  return m[1];
}

/** "v1.36.3" from `kubeadm version -o short`. */
export function parseKubeadmVersion(stdout: string): string {
  const out = (stdout ?? '').trim();
  if (!/^v\d+\.\d+\.\d+\S*$/.test(out)) {
    throw new Error(`unrecognised kubeadm version -o short output: ${JSON.stringify(out.slice(0, 80))}`);
  }
  return out;
}

/** The tag of an image reference ("registry.k8s.io/kube-apiserver:v1.36.3" -> "v1.36.3"), undefined without one. */
export function imageTag(image: string): string | undefined {
  const name = image.split('@')[0];
  const last = name.slice(name.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon >= 0 && colon < last.length - 1 ? last.slice(colon + 1) : undefined;
}

/** nodeVersionsCommand's output. Throws on a kubeadm or kubelet version it cannot read. */
export function parseNodeVersions(stdout: string): NodeVersions {
  const kv = new Map<string, string>();
  for (const line of (stdout ?? '').split('\n')) {
    const m = /^([a-z.-]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1], m[2].trim());
  }
  const staticPods: NodeVersions['staticPods'] = {};
  for (const c of PODS) {
    const image = kv.get(`image.${c}`)?.replace(/^(["'])(.*)\1$/, '$2');
    if (image !== undefined) staticPods[c] = imageTag(image) ?? image;
  }
  const kubeadm = kv.get('kubeadm');
  const kubelet = kv.get('kubelet');
  return {
    ...(kubeadm ? { kubeadm: parseKubeadmVersion(kubeadm) } : {}),
    ...(kubelet ? { kubelet: parseKubeletVersion(kubelet) } : {}),
    staticPods,
  };
}

export interface MixedControlPlane {
  /** Each versioned component's tag (etcd's too when present). */
  versions: Partial<Record<StaticPodName, string>>;
  /** "kube-apiserver at v1.37.2; kube-controller-manager, kube-scheduler at v1.36.3 (etcd 3.7.0-0)". */
  detail: string;
}

/** Two version strings name the same version, with or without the leading "v". */
export const sameVersion = (a: string, b: string) => a.replace(/^v/, '') === b.replace(/^v/, '');

/**
 * When the control plane's manifests name different Kubernetes versions (an apply or upgrade node
 * that failed and was rolled back partly, or stopped between components): which is at which, older
 * first. etcd's tag is its own version and only shown. Undefined when they agree.
 */
export function mixedControlPlane(staticPods: NodeVersions['staticPods']): MixedControlPlane | undefined {
  const groups: { version: string; components: StaticPodName[] }[] = [];
  for (const c of VERSIONED_COMPONENTS) {
    const v = staticPods[c];
    if (v === undefined) continue;
    const g = groups.find((x) => sameVersion(x.version, v));
    if (g) g.components.push(c);
    else groups.push({ version: v, components: [c] });
  }
  if (groups.length < 2) return undefined;
  const rank = (v: string) => {
    try {
      return parseKubeVersion(v);
    } catch {
      return undefined;
    }
  };
  groups.sort((a, b) => {
    const [x, y] = [rank(a.version), rank(b.version)];
    return x && y ? compareKubeVersions(x, y) : a.version.localeCompare(b.version);
  });
  const versions: MixedControlPlane['versions'] = {};
  for (const c of [...VERSIONED_COMPONENTS, 'etcd' as const])
    if (staticPods[c] !== undefined) versions[c] = staticPods[c];
  const etcd = staticPods.etcd === undefined ? '' : ` (etcd ${staticPods.etcd})`;
  return { versions, detail: groups.map((g) => `${g.components.join(', ')} at ${g.version}`).join('; ') + etcd };
}

/** The first control plane runs `kubeadm upgrade apply`; the other control planes and the workers `kubeadm upgrade node`. */
export type UpgradeRole = 'first-control-plane' | 'control-plane' | 'worker';

/** A node's next step in a hop, with what it was decided from (see nodeUpgradeState). */
export type NodeUpgradeState =
  | { step: 'kubeadm' | 'kubelet' | 'done' | 'blocked'; detail: string }
  | { step: 'apply' | 'upgrade-node'; detail: string; mixed?: MixedControlPlane };

/** A version a node reports, or why it cannot be read. */
function reported(what: string, v: string | undefined): KubeVersion | string {
  if (v === undefined) return `${what} reports no version`;
  try {
    return parseKubeVersion(v);
  } catch {
    return `${what} names no Kubernetes version (${JSON.stringify(v)})`;
  }
}

/** The oldest version among a control plane's versioned manifests, or why there is none. */
function controlPlaneVersion(staticPods: NodeVersions['staticPods']): KubeVersion | string {
  const missing = VERSIONED_COMPONENTS.filter((c) => staticPods[c] === undefined);
  if (missing.length) return `no static pod manifest for ${missing.join(', ')}: not a kubeadm control plane`;
  let oldest: KubeVersion | undefined;
  for (const c of VERSIONED_COMPONENTS) {
    const v = reported(`${c}'s image`, staticPods[c]);
    if (typeof v === 'string') return v;
    if (!oldest || compareKubeVersions(v, oldest) < 0) oldest = v;
  }
  return oldest!;
}

/**
 * What is left of the hop to `target` on a node, in the upgrade page's order: `kubeadm` (install
 * kubeadm `target`), then `apply` (first control plane) or `upgrade-node`, then `kubelet` (install
 * and restart it), then `done`; `blocked` when the node cannot take this hop (no control plane
 * manifests on a control plane, a version that cannot be read, or more than one minor behind).
 *
 * A control plane's apply/upgrade node is done when every versioned manifest is at `target` or
 * newer; mixed tags below it mean a re-run (kubeadm's upgrade is idempotent: the page's "Recovering
 * from a failure state"), with `mixed` naming them. A worker keeps nothing on disk that says
 * whether `kubeadm upgrade node` ran (it rewrites /var/lib/kubelet/config.yaml in place), so it is
 * `upgrade-node` until its kubelet is at `target`. Nor does the node say whether the first control
 * plane's apply got past its static pods (upload-config, addons): a caller records apply's success.
 */
export function nodeUpgradeState(node: NodeVersions, role: UpgradeRole, target: string): NodeUpgradeState {
  const t = exactVersion('target', target);
  const kubelet = reported('the kubelet', node.kubelet);
  if (typeof kubelet === 'string') return { step: 'blocked', detail: kubelet };
  const controlPlane = role === 'worker' ? undefined : controlPlaneVersion(node.staticPods);
  if (typeof controlPlane === 'string') return { step: 'blocked', detail: controlPlane };
  const lowest = controlPlane ?? kubelet;
  if (lowest.minor < t.minor - 1) {
    const what = controlPlane ? 'its control plane' : 'its kubelet';
    return {
      step: 'blocked',
      detail: `${what} is at ${vs(lowest)}: the hop to ${vs(t)} needs it at 1.${t.minor - 1} first (one minor at a time)`,
    };
  }
  const kubeletDone = compareKubeVersions(kubelet, t) >= 0;
  if (controlPlane && compareKubeVersions(controlPlane, t) >= 0) {
    return kubeletDone
      ? { step: 'done', detail: `control plane and kubelet at ${vs(t)} or newer` }
      : { step: 'kubelet', detail: `control plane at ${vs(controlPlane)}, kubelet at ${vs(kubelet)}` };
  }
  if (!controlPlane && kubeletDone) return { step: 'done', detail: `kubelet at ${vs(kubelet)}` };
  const kubeadm = reported('kubeadm', node.kubeadm);
  if (typeof kubeadm === 'string' || compareKubeVersions(kubeadm, t) !== 0) {
    const has = typeof kubeadm === 'string' ? kubeadm : `kubeadm ${vs(kubeadm)} is installed`;
    return { step: 'kubeadm', detail: `${has}; the hop to ${vs(t)} needs kubeadm ${vs(t)}` };
  }
  const step = role === 'first-control-plane' ? 'apply' : 'upgrade-node';
  const mixed = controlPlane ? mixedControlPlane(node.staticPods) : undefined;
  if (mixed) return { step, detail: `the control plane is mixed: ${mixed.detail}`, mixed };
  return { step, detail: `${controlPlane ? 'control plane' : 'kubelet'} at ${vs(lowest)}, kubeadm at ${vs(t)}` };
}

/**
 * The folders a `kubeadm upgrade apply`/`node` run backed up into, as its output names them
 * ("backing up old manifest to \"/etc/kubernetes/tmp/kubeadm-backup-manifests-<time>/kube-apiserver.yaml\"",
 * and the etcd data's kubeadm-backup-etcd-<time>: cmd/kubeadm/app/phases/upgrade/staticpods.go).
 */
export function kubeadmBackupDirs(output: string): string[] {
  return [...new Set((output ?? '').match(/\/etc\/kubernetes\/tmp\/kubeadm-backup-(?:manifests|etcd)-[0-9-]+/g) ?? [])];
}

/**
 * Why a failed `kubeadm upgrade apply`/`node` parks, for the operator: kubeadm's error, where each
 * component stands now (naming a mixed control plane), and where kubeadm kept what it replaced.
 */
export function upgradeFailureText(o: {
  host: string;
  what: string;
  why: string;
  /** The node's versions after the failure; undefined when they could not be read. */
  after?: NodeVersions;
  output: string;
}): string {
  const mixed = o.after ? mixedControlPlane(o.after.staticPods) : undefined;
  const pods = o.after ? Object.entries(o.after.staticPods).map(([c, v]) => `${c} ${v}`) : [];
  const at = !o.after
    ? 'its versions could not be read'
    : mixed
      ? `the control plane is mixed: ${mixed.detail}`
      : `its static pods: ${pods.join(', ') || 'none'}`;
  const dirs = kubeadmBackupDirs(o.output);
  const kept = dirs.length
    ? `kubeadm kept what it replaced in ${dirs.join(' and ')}`
    : 'kubeadm had replaced nothing yet (no kubeadm-backup-* folder in its output)';
  return `${o.host}: ${o.what} failed: ${o.why}. Now ${at}. ${kept}; retry runs it again (kubeadm's upgrade is idempotent), or abort`;
}
