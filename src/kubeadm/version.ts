// Kubernetes version parsing and the kubeadm config API version per release
// (the kubeadm docs' "kubeadm Configuration" pages: which config API each version reads).

export interface KubeVersion {
  major: number;
  minor: number;
  patch: number;
  /** The input as given, trimmed (e.g. "v1.31.4" or "1.31.4"). */
  raw: string;
}

export type KubeadmConfigApiVersion =
  'kubeadm.k8s.io/v1beta1' | 'kubeadm.k8s.io/v1beta2' | 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';

/** Oldest release whose HA procedure (v1beta1 config, control-plane join) we drive (the 1.13 "Creating Highly Available Clusters with kubeadm" page). */
export const MIN_SUPPORTED = '1.13.0';
/** Newest minor whose kubeadm kubeadm-ha knows (config API, flags, texts); a newer one may change them. */
export const NEWEST_MINOR = 37;
/** "1.13 to 1.37", as messages and the cluster file's schema give it. */
export const SUPPORTED_RANGE = `${MIN_SUPPORTED.replace(/\.0$/, '')} to 1.${NEWEST_MINOR}`;

// Optional pre-release/build suffix as in "v1.31.0-rc.1" or "v1.25.16+rke2r2".
const VERSION_RE = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]+)?$/;

export function parseKubeVersion(v: string): KubeVersion {
  const raw = typeof v === 'string' ? v.trim() : '';
  const m = VERSION_RE.exec(raw);
  if (!m) {
    throw new Error(
      `invalid Kubernetes version ${JSON.stringify(v)}: expected "vMAJOR.MINOR.PATCH" or "MAJOR.MINOR.PATCH", e.g. "v1.31.4"`,
    );
  }
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw };
}

/** Negative, zero or positive like a sort comparator (pre-release suffixes ignored). */
export function compareKubeVersions(a: KubeVersion, b: KubeVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** True when `v` is at least `min` ("1.15" or "1.15.0"). */
export function atLeast(v: KubeVersion, min: string): boolean {
  const m = parseKubeVersion(/^\d+\.\d+$/.test(min) ? `${min}.0` : min);
  return compareKubeVersions(v, m) >= 0;
}

/** "v1.31.4" whatever the input form (kubernetesVersion field, messages). */
export function kubeVersionString(v: KubeVersion): string {
  return v.raw.startsWith('v') ? v.raw : `v${v.raw}`;
}

/** Why this version cannot be driven, or undefined when it can. */
export function supportedVersionProblem(v: KubeVersion | string): string | undefined {
  let kv: KubeVersion;
  try {
    kv = typeof v === 'string' ? parseKubeVersion(v) : v;
  } catch (e) {
    return (e as Error).message;
  }
  if (kv.major !== 1) {
    return `Kubernetes ${kubeVersionString(kv)} is not supported: kubeadm-ha supports ${SUPPORTED_RANGE}`;
  }
  if (!atLeast(kv, MIN_SUPPORTED)) {
    return (
      `Kubernetes ${kubeVersionString(kv)} is not supported: kubeadm-ha supports ${SUPPORTED_RANGE} ` +
      `(the kubeadm.k8s.io/v1beta1 config API and control-plane join first shipped in 1.13)`
    );
  }
  if (kv.minor > NEWEST_MINOR) {
    return (
      `Kubernetes ${kubeVersionString(kv)} is not supported yet: kubeadm-ha supports ${SUPPORTED_RANGE}; ` +
      'a newer kubeadm may change its config API, flags or texts'
    );
  }
  return undefined;
}

/**
 * The config API kubeadm-ha writes for each release, from the first minor that reads it to the
 * next one's: kubeadm's "kubeadm Configuration (v1beta1..v1beta4)" pages
 * (kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/ and the older ones' godoc).
 */
const CONFIG_APIS: ReadonlyArray<{ apiVersion: KubeadmConfigApiVersion; sinceMinor: number }> = [
  { apiVersion: 'kubeadm.k8s.io/v1beta1', sinceMinor: 13 },
  { apiVersion: 'kubeadm.k8s.io/v1beta2', sinceMinor: 15 },
  { apiVersion: 'kubeadm.k8s.io/v1beta3', sinceMinor: 22 },
  { apiVersion: 'kubeadm.k8s.io/v1beta4', sinceMinor: 31 },
];

/** 1.13-1.14 v1beta1, 1.15-1.21 v1beta2, 1.22-1.30 v1beta3, 1.31+ v1beta4. Throws below 1.13. */
export function configApiVersion(v: KubeVersion): KubeadmConfigApiVersion {
  const problem = supportedVersionProblem(v);
  if (problem) throw new Error(problem);
  return CONFIG_APIS.filter((a) => a.sinceMinor <= v.minor).at(-1)!.apiVersion;
}

/** "Kubernetes 1.13-1.14" (or "Kubernetes 1.31+"): the releases kubeadm-ha writes this config API for. */
export function configApiReleases(apiVersion: KubeadmConfigApiVersion): string {
  const i = CONFIG_APIS.findIndex((a) => a.apiVersion === apiVersion);
  const next = CONFIG_APIS[i + 1];
  return `Kubernetes 1.${CONFIG_APIS[i].sinceMinor}${next ? `-1.${next.sinceMinor - 1}` : '+'}`;
}

/**
 * Fields kubeadm-ha may write that the oldest config APIs lack, with the API that added each
 * (cmd/kubeadm/app/apis/kubeadm/v1beta2/types.go: InitConfiguration.CertificateKey,
 * NodeRegistrationOptions.IgnorePreflightErrors; v1beta3/types.go: Patches). The one place that
 * says which release has which: the cluster file's checks and the config renderer both ask here.
 */
const CONFIG_FIELD_SINCE = {
  certificateKey: 'kubeadm.k8s.io/v1beta2',
  'nodeRegistration.ignorePreflightErrors': 'kubeadm.k8s.io/v1beta2',
  'patches.directory': 'kubeadm.k8s.io/v1beta3',
} as const satisfies Record<string, KubeadmConfigApiVersion>;
export type LateConfigField = keyof typeof CONFIG_FIELD_SINCE;

/** The config API that added `field` and the first release that reads it ("1.22"). */
export function configFieldArrival(field: LateConfigField): { apiVersion: KubeadmConfigApiVersion; release: string } {
  const api = CONFIG_APIS.find((a) => a.apiVersion === CONFIG_FIELD_SINCE[field])!;
  return { apiVersion: api.apiVersion, release: `1.${api.sinceMinor}` };
}

/** "patches.directory arrived in kubeadm.k8s.io/v1beta3 (Kubernetes 1.22)" when `at` lacks it, else undefined. */
export function configFieldProblem(
  at: KubeadmConfigApiVersion | KubeVersion,
  field: LateConfigField,
): string | undefined {
  if (hasConfigField(at, field)) return undefined;
  const since = configFieldArrival(field);
  return `${field} arrived in ${since.apiVersion} (Kubernetes ${since.release})`;
}

/** Whether the config API, or the config of a release, has `field`. */
export function hasConfigField(at: KubeadmConfigApiVersion | KubeVersion, field: LateConfigField): boolean {
  const rank = (apiVersion: KubeadmConfigApiVersion) => CONFIG_APIS.findIndex((a) => a.apiVersion === apiVersion);
  const since = CONFIG_FIELD_SINCE[field];
  if (typeof at === 'string') return rank(at) >= rank(since);
  return at.minor >= CONFIG_APIS[rank(since)].sinceMinor;
}

/**
 * Why `kubeadm init --upload-certs` with a certificate key in the config file cannot be used, or
 * undefined. 1.14 has the flag (--experimental-upload-certs) but its v1beta1 config has no
 * certificateKey, and the key must not go into argv; v1beta2 (1.15) added the field.
 */
export function uploadCertsProblem(v: KubeVersion): string | undefined {
  if (hasConfigField(v, 'certificateKey')) return undefined;
  const since = configFieldArrival('certificateKey');
  return (
    `Kubernetes ${kubeVersionString(v)} cannot upload certificates with a certificate key in the config file ` +
    `(certificateKey arrived in ${since.apiVersion}, Kubernetes ${since.release})`
  );
}

/**
 * `--upload-certs` (1.15+); 1.14 called it --experimental-upload-certs (CHANGELOG-1.15). A flag, not
 * a config field, so not in CONFIG_FIELD_SINCE.
 */
export function uploadCertsFlag(v: KubeVersion): string {
  return v.minor >= 15 ? '--upload-certs' : '--experimental-upload-certs';
}
