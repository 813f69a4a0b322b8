// InitConfiguration + ClusterConfiguration (or init flags) -> the options init needs.
import { HostEnv, parseDuration } from './env';
import { ExitError } from './errors';
import { Parsed, bool, list, str } from './flags';
import { Doc, aggregate, checkMixedArgs, invalid, isCIDR, isIP, loadConfigFile } from './config';

export interface InitOptions {
  nodeName: string;
  advertiseAddress: string;
  bindPort: number;
  controlPlaneEndpoint: string;
  certSANs: string[];
  podSubnet: string;
  serviceSubnet: string;
  kubernetesVersion: string;
  clusterName: string;
  externalEtcd: boolean;
  ignore: string[];
  uploadCerts: boolean;
  certificateKey: string;
  token: string;
  tokenTTLms: number;
  warnings: string[];
  clusterConfiguration: Record<string, unknown>;
}

export const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

function normaliseVersion(v: string | undefined, e: HostEnv): string {
  if (!v || /^(stable|latest)(-1(\.\d+)?)?$/.test(v)) return e.version;
  const m = /^v?(1\.\d+\.\d+)$/.exec(v);
  if (!m) throw new ExitError(`couldn't parse Kubernetes version "${v}"`);
  const minor = Number(m[1].split('.')[1]);
  if (minor < e.minor - 1)
    throw new ExitError(
      `this version of kubeadm only supports deploying clusters with the control plane version >= 1.${e.minor - 1}.0. Current version: v${m[1]}`,
    );
  return `v${m[1]}`;
}

export function initOptions(p: Parsed, e: HostEnv): InitOptions {
  checkMixedArgs(p.given);
  let init: Doc = {};
  let cluster: Doc = {};
  let warnings: string[] = [];
  let apiVersion = e.minor >= 31 ? 'v1beta4' : 'v1beta3';
  const file = str(p, 'config');
  if (file) {
    const c = loadConfigFile(file, e.minor, ['InitConfiguration', 'ClusterConfiguration']);
    init = c.docs.get('InitConfiguration') ?? {};
    cluster = c.docs.get('ClusterConfiguration') ?? {};
    warnings = c.warnings;
    apiVersion = c.version;
  }
  const v1alpha3 = apiVersion === 'v1alpha3';
  const local = (v1alpha3 ? init.apiEndpoint : init.localAPIEndpoint) ?? {};
  const o: InitOptions = {
    nodeName: str(p, 'node-name') ?? init.nodeRegistration?.name ?? e.host,
    advertiseAddress: str(p, 'apiserver-advertise-address') ?? local.advertiseAddress ?? e.address,
    bindPort: Number(str(p, 'apiserver-bind-port') ?? local.bindPort ?? 6443),
    controlPlaneEndpoint: str(p, 'control-plane-endpoint') ?? cluster.controlPlaneEndpoint ?? '',
    certSANs: [
      ...list(p, 'apiserver-cert-extra-sans'),
      ...((v1alpha3 ? cluster.apiServerCertSANs : cluster.apiServer?.certSANs) ?? []),
    ].map(String),
    podSubnet: str(p, 'pod-network-cidr') ?? cluster.networking?.podSubnet ?? '',
    serviceSubnet: str(p, 'service-cidr') ?? cluster.networking?.serviceSubnet ?? '10.96.0.0/12',
    kubernetesVersion: normaliseVersion(str(p, 'kubernetes-version') ?? cluster.kubernetesVersion, e),
    clusterName: cluster.clusterName ?? 'kubernetes',
    externalEtcd: !!cluster.etcd?.external,
    ignore: [
      ...list(p, 'ignore-preflight-errors'),
      ...((init.nodeRegistration?.ignorePreflightErrors as string[]) ?? []),
    ],
    uploadCerts: bool(p, 'upload-certs'),
    certificateKey: str(p, 'certificate-key') ?? init.certificateKey ?? '',
    token: str(p, 'token') ?? init.bootstrapTokens?.[0]?.token ?? '',
    tokenTTLms: parseDuration(str(p, 'token-ttl') ?? init.bootstrapTokens?.[0]?.ttl ?? '24h0m0s'),
    warnings,
    clusterConfiguration: {},
  };
  if (o.controlPlaneEndpoint && !/:\d+$/.test(o.controlPlaneEndpoint)) o.controlPlaneEndpoint += `:${o.bindPort}`;

  const errs: string[] = [];
  if (!isIP(o.advertiseAddress))
    errs.push(invalid('localAPIEndpoint.advertiseAddress', o.advertiseAddress, 'ip address is not valid'));
  if (!(o.bindPort > 0 && o.bindPort < 65536))
    errs.push(invalid('localAPIEndpoint.bindPort', o.bindPort, 'port number is not valid'));
  if (o.podSubnet && !o.podSubnet.split(',').every(isCIDR))
    errs.push(invalid('networking.podSubnet', o.podSubnet, "couldn't parse subnet"));
  if (!o.serviceSubnet.split(',').every(isCIDR))
    errs.push(invalid('networking.serviceSubnet', o.serviceSubnet, "couldn't parse subnet"));
  const ep = /^([^:]+|\[[^\]]+\]):(\d+)$/.exec(o.controlPlaneEndpoint);
  if (o.controlPlaneEndpoint && (!ep || Number(ep[2]) > 65535))
    errs.push(
      invalid(
        'controlPlaneEndpoint',
        o.controlPlaneEndpoint,
        'port must be a valid number between 1 and 65535, inclusive',
      ),
    );
  if (o.token && !TOKEN_RE.test(o.token))
    errs.push(
      invalid(
        'bootstrapTokens[0].token',
        o.token,
        `the bootstrap token "${o.token}" was not of the form "\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z"`,
      ),
    );
  if (o.certificateKey && !/^[a-f0-9]{64}$/.test(o.certificateKey))
    errs.push(invalid('certificateKey', o.certificateKey, 'certificate key size must be 32 bytes'));
  if (Number.isNaN(o.tokenTTLms))
    errs.push(`invalid argument "${str(p, 'token-ttl')}" for "--token-ttl" flag: time: invalid duration`);
  if (!o.nodeName || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.nodeName))
    errs.push(
      invalid(
        'nodeRegistration.name',
        o.nodeName,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    );
  if (errs.length) throw new ExitError(aggregate(errs));

  o.clusterConfiguration = {
    apiServer: { certSANs: o.certSANs.length ? o.certSANs : undefined },
    apiVersion: `kubeadm.k8s.io/${e.minor >= 31 ? 'v1beta4' : 'v1beta3'}`,
    certificatesDir: '/etc/kubernetes/pki',
    clusterName: o.clusterName,
    controlPlaneEndpoint: o.controlPlaneEndpoint || undefined,
    etcd: o.externalEtcd ? { external: cluster.etcd.external } : { local: { dataDir: '/var/lib/etcd' } },
    imageRepository: 'registry.k8s.io',
    kind: 'ClusterConfiguration',
    kubernetesVersion: o.kubernetesVersion,
    networking: { dnsDomain: 'cluster.local', podSubnet: o.podSubnet || undefined, serviceSubnet: o.serviceSubnet },
  };
  return o;
}
