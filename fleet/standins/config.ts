// kubeadm configuration files: apiVersion/kind checks per emulated release, then the fields this
// procedure uses, normalised across API versions.
import * as fs from 'node:fs';
import * as YAML from 'yaml';
import { ExitError } from './errors';
import { realKubeadm, validateConfig } from './realkubeadm';

const GROUP = 'kubeadm.k8s.io';
/** [first minor, last minor] each version is readable; deprecated from `deprecated`. */
const VERSIONS: Record<string, { from: number; to: number; deprecated?: number }> = {
  v1alpha3: { from: 12, to: 13 },
  v1beta1: { from: 13, to: 21, deprecated: 17 },
  v1beta2: { from: 15, to: 26, deprecated: 24 },
  v1beta3: { from: 22, to: 36, deprecated: 31 },
  v1beta4: { from: 31, to: 99 },
};
/** kubeadm's oldKnownAPIVersions: which release to use to migrate. */
const OLD: Record<string, string> = {
  v1alpha1: 'v1.11',
  v1alpha2: 'v1.12',
  v1alpha3: 'v1.14',
  v1beta1: 'v1.15',
  v1beta2: 'v1.22',
  v1beta3: 'v1.36',
};
const KINDS = [
  'InitConfiguration',
  'ClusterConfiguration',
  'JoinConfiguration',
  'ResetConfiguration',
  'UpgradeConfiguration',
  'ClusterStatus',
];

export type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do

export interface LoadedConfig {
  version: string;
  docs: Map<string, Doc>;
  warnings: string[];
}

function klogWarn(msg: string, site = 'common.go:101'): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `W${p(d.getMonth() + 1)}${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)} ${String(process.pid).padStart(7)} ${site}] ${msg}`;
}

export function loadConfigFile(file: string, minor: number, wanted: string[]): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ExitError(`unable to read config from "${file}" : open ${file}: no such file or directory`);
  }
  const docs = new Map<string, Doc>();
  const warnings: string[] = [];
  const real = realKubeadm(minor);
  if (real) {
    // Where the loaders log it: initconfiguration.go line 332 in 1.35, 334 in 1.36-1.37; joinconfiguration.go line 124.
    const site = wanted.includes('JoinConfiguration')
      ? 'joinconfiguration.go:124'
      : `initconfiguration.go:${minor <= 35 ? 332 : 334}`;
    const { strictError } = validateConfig(real, file);
    if (strictError) warnings.push(klogWarn(strictError, site));
  }
  let version = '';
  for (const d of YAML.parseAllDocuments(text)) {
    if (d.errors.length)
      throw new ExitError(`error converting YAML to JSON: yaml: ${d.errors[0].message.split('\n')[0]}`);
    const o = d.toJS() as Doc | null;
    if (!o) continue;
    if (!o.apiVersion || !o.kind) throw new ExitError(`Object 'Kind' is missing in '${YAML.stringify(o).trim()}'`);
    const [group, ver] = String(o.apiVersion).split('/');
    if (group !== GROUP) continue; // component configs (kubelet, kube-proxy) are passed through
    if (OLD[ver] && !(VERSIONS[ver] && minor >= VERSIONS[ver].from && minor <= VERSIONS[ver].to)) {
      throw new ExitError(
        `your configuration file uses an old API spec: "${o.apiVersion}" (kind: "${o.kind}"). Please use kubeadm ${OLD[ver]} instead and run 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version.`,
      );
    }
    const v = VERSIONS[ver];
    if (!v || minor < v.from || minor > v.to || !KINDS.includes(o.kind)) {
      throw new ExitError(
        `no kind "${o.kind}" is registered for version "${o.apiVersion}" in scheme "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"`,
      );
    }
    if (v.deprecated && minor >= v.deprecated) {
      warnings.push(
        klogWarn(
          `your configuration file uses a deprecated API spec: "${o.apiVersion}" (kind: "${o.kind}"). Please use 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version.`,
        ),
      );
    }
    if (!wanted.includes(o.kind)) {
      warnings.push(
        `[config] WARNING: Ignored configuration document with GroupVersionKind ${o.apiVersion}, Kind=${o.kind}`,
      );
      continue;
    }
    if (docs.has(o.kind)) throw new ExitError(`duplicate ${o.kind} document in "${file}"`);
    version = ver;
    checkExtraArgsShape(o, ver);
    docs.set(o.kind, o);
  }
  if (!docs.size) throw new ExitError(`no ${wanted.join(' or ')} found in the supplied config`);
  return { version, docs, warnings };
}

/** v1beta4 made extraArgs a list of {name,value}; older versions use a map. */
function checkExtraArgsShape(o: Doc, ver: string): void {
  const spots: Array<[unknown, string, string]> = [
    [o.apiServer?.extraArgs, 'APIServer.apiServer.extraArgs', 'APIServer'],
    [o.controllerManager?.extraArgs, 'ControlPlaneComponent.controllerManager.extraArgs', 'ControlPlaneComponent'],
    [o.scheduler?.extraArgs, 'ControlPlaneComponent.scheduler.extraArgs', 'ControlPlaneComponent'],
    [o.etcd?.local?.extraArgs, 'LocalEtcd.etcd.local.extraArgs', 'LocalEtcd'],
    [
      o.nodeRegistration?.kubeletExtraArgs,
      'NodeRegistrationOptions.nodeRegistration.kubeletExtraArgs',
      'NodeRegistrationOptions',
    ],
  ];
  for (const [v, field] of spots) {
    if (v === undefined || v === null) continue;
    const isList = Array.isArray(v);
    if (ver === 'v1beta4' && !isList)
      throw new ExitError(
        `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go struct field ${field} of type []v1beta4.Arg`,
      );
    if (ver !== 'v1beta4' && isList)
      throw new ExitError(
        `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field ${field} of type map[string]string`,
      );
  }
}

export function isIP(s: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(s) && s.split('.').every((x) => Number(x) <= 255);
}

export function isCIDR(s: string): boolean {
  const [ip, bits] = s.split('/');
  return isIP(ip ?? '') && /^\d+$/.test(bits ?? '') && Number(bits) <= 32;
}

export function invalid(field: string, value: unknown, detail: string): string {
  return `${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
}

/** kubeadm aggregates validation errors as "[e1, e2]"; a single one is printed bare. */
export function aggregate(errs: string[]): string {
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}

/** ValidateMixedArguments: --config may only be combined with an allow-list of flags. */
export function checkMixedArgs(given: string[]): void {
  const allowed = [
    'config',
    'ignore-preflight-errors',
    'dry-run',
    'kubeconfig',
    'node-name',
    'kubeconfig-dir',
    'upload-certs',
    'print-join-command',
    'rootfs',
    'v',
    'log-file',
  ];
  if (!given.includes('config')) return;
  const bad = given.filter((f) => !allowed.includes(f) && !f.startsWith('skip-')).sort();
  if (bad.length) throw new ExitError(`can not mix '--config' with arguments [${bad.join(' ')}]`);
}
