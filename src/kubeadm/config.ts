// Renders kubeadm-config.yaml for `kubeadm init --config` and `kubeadm join --config`.
// Field names per apiVersion: kubeadm cmd/kubeadm/app/apis/kubeadm/v1beta{1,2,3,4}/types.go. `--config`
// cannot be mixed with --control-plane/--certificate-key (cmd/kubeadm/app/cmd/join.go), so a control-plane join is expressed in the file.
import { stringify } from 'yaml';
import {
  configApiReleases,
  configApiVersion,
  configFieldArrival,
  hasConfigField,
  kubeVersionString,
  parseKubeVersion,
  type KubeadmConfigApiVersion,
  type KubeVersion,
} from './version';
import {
  checkAbsolutePath,
  checkCaHash,
  checkCertificateKey,
  checkCidrs,
  checkEtcdEndpoint,
  checkHostPort,
  checkIP,
  checkNodeName,
  checkPort,
  checkSan,
  checkToken,
  isPreflightCheckName,
} from './validate';

export const DEFAULT_BIND_PORT = 6443;

/** What kubeadm itself takes on each node, from the cluster file's kubeadm section. */
export interface KubeadmNodeOptions {
  /** nodeRegistration.ignorePreflightErrors (v1beta2+): check names, never "all". */
  ignorePreflightErrors?: string[];
  /** patches.directory (v1beta3+): a directory on the node. */
  patches?: string;
}

export interface InitConfigInput {
  kubernetesVersion: string;
  nodeName: string;
  advertiseAddress: string;
  bindPort?: number;
  /** "host:port" of the load balancer. */
  controlPlaneEndpoint: string;
  certSANs: string[];
  podSubnet: string;
  serviceSubnet?: string;
  etcd?: { external: { endpoints: string[]; caFile: string; certFile: string; keyFile: string } };
  /** InitConfiguration.certificateKey (v1beta2+, 1.15+) for `--upload-certs` with a key we chose. */
  certificateKey?: string;
  /** kube-apiserver flags (ClusterConfiguration.apiServer.extraArgs), name without "--" -> value. */
  apiServerExtraArgs?: Record<string, string>;
  kubeadm?: KubeadmNodeOptions;
  /** Fields of the cluster's KubeletConfiguration (kubeadm uploads it to the kubelet-config ConfigMap every node reads). */
  kubeletConfiguration?: Record<string, unknown>;
  /** Fields of the cluster's KubeProxyConfiguration (the kube-proxy ConfigMap). */
  kubeProxyConfiguration?: Record<string, unknown>;
}

export interface JoinConfigInput {
  kubernetesVersion: string;
  nodeName: string;
  apiServerEndpoint: string;
  token: string;
  caCertHashes: string[];
  controlPlane?: { advertiseAddress: string; bindPort?: number; certificateKey?: string };
  kubeadm?: KubeadmNodeOptions;
}

function apiVersionFor(field: string, version: string): { v: KubeVersion; apiVersion: KubeadmConfigApiVersion } {
  let v: KubeVersion;
  try {
    v = parseKubeVersion(version);
    return { v, apiVersion: configApiVersion(v) };
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`, { cause: e });
  }
}

function certificateKeyFor(apiVersion: KubeadmConfigApiVersion, field: string, key: string): string {
  if (!hasConfigField(apiVersion, 'certificateKey')) {
    throw new Error(
      `${field}: ${apiVersion} (${configApiReleases(apiVersion)}) has no certificateKey field; ` +
        'distribute the shared certificates manually (sharedControlPlaneFiles) instead',
    );
  }
  return checkCertificateKey(field, key);
}

/**
 * ControlPlaneComponent.extraArgs: a map up to v1beta3; v1beta4 made it a list of {name, value} so
 * a flag can repeat (kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/, "Convert the
 * existing string/string extra argument maps to structured extra arguments"; types.go, type Arg).
 */
function extraArgsFor(apiVersion: KubeadmConfigApiVersion, field: string, args: Record<string, string>): unknown {
  const entries = Object.entries(args).map(([name, value]) => {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
      throw new Error(
        `${field}: ${JSON.stringify(name)} is not a flag name (lower case, digits and "-", without the leading "--")`,
      );
    if (typeof value !== 'string') throw new Error(`${field}.${name}: the value must be a string`);
    return [name, value] as const;
  });
  return apiVersion === 'kubeadm.k8s.io/v1beta4'
    ? entries.map(([name, value]) => ({ name, value }))
    : Object.fromEntries(entries);
}

/** nodeRegistration and patches for InitConfiguration and JoinConfiguration. */
function nodeOptions(
  apiVersion: KubeadmConfigApiVersion,
  nodeName: string,
  opts: KubeadmNodeOptions = {},
): Record<string, unknown> {
  const nodeRegistration: Record<string, unknown> = { name: checkNodeName('nodeName', nodeName) };
  const out: Record<string, unknown> = { nodeRegistration };
  const ignored = opts.ignorePreflightErrors ?? [];
  if (ignored.length > 0) {
    if (!hasConfigField(apiVersion, 'nodeRegistration.ignorePreflightErrors')) {
      throw new Error(
        `kubeadm.ignorePreflightErrors: ${apiVersion} (${configApiReleases(apiVersion)}) ` +
          'has no nodeRegistration.ignorePreflightErrors',
      );
    }
    nodeRegistration.ignorePreflightErrors = ignored.map((c, i) => {
      if (!isPreflightCheckName(c))
        throw new Error(`kubeadm.ignorePreflightErrors[${i}]: ${JSON.stringify(c)} is not one preflight check's name`);
      return c;
    });
  }
  if (opts.patches !== undefined) {
    if (!hasConfigField(apiVersion, 'patches.directory')) {
      const since = configFieldArrival('patches.directory');
      throw new Error(
        `kubeadm.patches: ${apiVersion} has no patches; ` +
          `it arrived in ${since.apiVersion} (Kubernetes ${since.release})`,
      );
    }
    out.patches = { directory: checkAbsolutePath('kubeadm.patches', opts.patches) };
  }
  return out;
}

function componentDoc(
  field: string,
  apiVersion: string,
  kind: string,
  fields: Record<string, unknown> | undefined,
): object | undefined {
  if (fields === undefined || Object.keys(fields).length === 0) return undefined;
  if ('apiVersion' in fields || 'kind' in fields)
    throw new Error(`${field}: give its fields only; apiVersion and kind are kubeadm-ha's`);
  return { apiVersion, kind, ...fields };
}

function renderDocs(docs: object[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/** kubeadm's APIEndpoint (InitConfiguration.localAPIEndpoint, JoinConfiguration.controlPlane.localAPIEndpoint). */
function apiEndpoint(
  fieldPrefix: string,
  advertiseAddress: string,
  bindPort?: number,
): { advertiseAddress: string; bindPort: number } {
  return {
    advertiseAddress: checkIP(`${fieldPrefix}advertiseAddress`, advertiseAddress),
    bindPort: checkPort(`${fieldPrefix}bindPort`, bindPort ?? DEFAULT_BIND_PORT),
  };
}

export function renderInitConfig(input: InitConfigInput): string {
  const { v, apiVersion } = apiVersionFor('kubernetesVersion', input.kubernetesVersion);
  const init: Record<string, unknown> = {
    apiVersion,
    kind: 'InitConfiguration',
    ...nodeOptions(apiVersion, input.nodeName, input.kubeadm),
    localAPIEndpoint: apiEndpoint('', input.advertiseAddress, input.bindPort),
  };
  if (input.certificateKey !== undefined) {
    init.certificateKey = certificateKeyFor(apiVersion, 'certificateKey', input.certificateKey);
  }

  checkHostPort('controlPlaneEndpoint', input.controlPlaneEndpoint);
  if (!Array.isArray(input.certSANs)) throw new Error('certSANs: expected a list of IP addresses or DNS names');
  const sans = [...new Set(input.certSANs.map((s, i) => checkSan(`certSANs[${i}]`, s)))];
  const networking: Record<string, string> = { podSubnet: checkCidrs('podSubnet', input.podSubnet) };
  if (input.serviceSubnet !== undefined) networking.serviceSubnet = checkCidrs('serviceSubnet', input.serviceSubnet);

  const cluster: Record<string, unknown> = {
    apiVersion,
    kind: 'ClusterConfiguration',
    kubernetesVersion: kubeVersionString(v),
    controlPlaneEndpoint: input.controlPlaneEndpoint,
  };
  const apiServer: Record<string, unknown> = {};
  if (sans.length > 0) apiServer.certSANs = sans;
  if (input.apiServerExtraArgs !== undefined && Object.keys(input.apiServerExtraArgs).length > 0) {
    apiServer.extraArgs = extraArgsFor(apiVersion, 'apiServerExtraArgs', input.apiServerExtraArgs);
  }
  if (Object.keys(apiServer).length > 0) cluster.apiServer = apiServer;
  cluster.networking = networking;
  if (input.etcd !== undefined) {
    const ext = input.etcd.external;
    if (!ext || !Array.isArray(ext.endpoints) || ext.endpoints.length === 0) {
      throw new Error('etcd.external.endpoints: at least one etcd URL is required');
    }
    cluster.etcd = {
      external: {
        endpoints: ext.endpoints.map((e, i) => checkEtcdEndpoint(`etcd.external.endpoints[${i}]`, e)),
        caFile: checkAbsolutePath('etcd.external.caFile', ext.caFile),
        certFile: checkAbsolutePath('etcd.external.certFile', ext.certFile),
        keyFile: checkAbsolutePath('etcd.external.keyFile', ext.keyFile),
      },
    };
  }
  // Component configs beside kubeadm's own documents (kubeadm's "kubeadm init --config" docs: KubeletConfiguration, KubeProxyConfiguration).
  const components = [
    componentDoc(
      'kubeletConfiguration',
      'kubelet.config.k8s.io/v1beta1',
      'KubeletConfiguration',
      input.kubeletConfiguration,
    ),
    componentDoc(
      'kubeProxyConfiguration',
      'kubeproxy.config.k8s.io/v1alpha1',
      'KubeProxyConfiguration',
      input.kubeProxyConfiguration,
    ),
  ].filter((d) => d !== undefined);
  return renderDocs([init, cluster, ...components]);
}

export function renderJoinConfig(input: JoinConfigInput): string {
  const { apiVersion } = apiVersionFor('kubernetesVersion', input.kubernetesVersion);
  checkHostPort('apiServerEndpoint', input.apiServerEndpoint);
  if (!Array.isArray(input.caCertHashes) || input.caCertHashes.length === 0) {
    throw new Error('caCertHashes: at least one sha256:<64 hex> CA public key hash is required');
  }
  const join: Record<string, unknown> = {
    apiVersion,
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: input.apiServerEndpoint,
        token: checkToken('token', input.token),
        caCertHashes: input.caCertHashes.map((h, i) => checkCaHash(`caCertHashes[${i}]`, h)),
      },
    },
    ...nodeOptions(apiVersion, input.nodeName, input.kubeadm),
  };
  const cp = input.controlPlane;
  if (cp !== undefined) {
    const controlPlane: Record<string, unknown> = {
      localAPIEndpoint: apiEndpoint('controlPlane.', cp.advertiseAddress, cp.bindPort),
    };
    if (cp.certificateKey !== undefined) {
      controlPlane.certificateKey = certificateKeyFor(apiVersion, 'controlPlane.certificateKey', cp.certificateKey);
    }
    join.controlPlane = controlPlane;
  }
  return renderDocs([join]);
}
