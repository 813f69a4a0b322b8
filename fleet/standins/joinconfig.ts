// JoinConfiguration (or join flags) -> the options join needs.
import { HostEnv, parseDuration } from './env';
import { ExitError } from './errors';
import { Parsed, bool, list, str } from './flags';
import { aggregate, checkMixedArgs, invalid, isIP, loadConfigFile } from './config';
import { TOKEN_RE } from './initconfig';

export interface JoinOptions {
  endpoint: string;
  token: string;
  tlsToken: string;
  caCertHashes: string[];
  unsafeSkip: boolean;
  discoveryTimeoutMs: number;
  nodeName: string;
  controlPlane: null | { advertiseAddress: string; bindPort: number; certificateKey: string };
  ignore: string[];
  warnings: string[];
}

export function joinOptions(p: Parsed, e: HostEnv): JoinOptions {
  checkMixedArgs(p.given);
  const file = str(p, 'config');
  let o: JoinOptions;
  if (file) {
    const c = loadConfigFile(file, e.minor, ['JoinConfiguration']);
    const j = c.docs.get('JoinConfiguration') ?? {};
    const v1alpha3 = c.version === 'v1alpha3';
    const bt = v1alpha3
      ? {
          apiServerEndpoint: j.discoveryTokenAPIServers?.[0],
          token: j.token,
          caCertHashes: j.discoveryTokenCACertHashes,
          unsafeSkipCAVerification: j.discoveryTokenUnsafeSkipCAVerification,
        }
      : (j.discovery?.bootstrapToken ?? {});
    const timeout = j.timeouts?.discovery ?? j.discovery?.timeout ?? j.discoveryTimeout ?? e.discoveryTimeout;
    const cp = v1alpha3 ? (j.controlPlane ? { localAPIEndpoint: j.apiEndpoint } : null) : j.controlPlane;
    o = {
      endpoint: String(bt.apiServerEndpoint ?? ''),
      token: String(bt.token ?? ''),
      tlsToken: String(j.discovery?.tlsBootstrapToken ?? j.tlsBootstrapToken ?? bt.token ?? ''),
      caCertHashes: (bt.caCertHashes ?? []).map(String),
      unsafeSkip: !!bt.unsafeSkipCAVerification,
      discoveryTimeoutMs: parseDuration(String(timeout)),
      nodeName: str(p, 'node-name') ?? j.nodeRegistration?.name ?? e.host,
      controlPlane: cp
        ? {
            advertiseAddress: cp.localAPIEndpoint?.advertiseAddress ?? e.address,
            bindPort: Number(cp.localAPIEndpoint?.bindPort ?? 6443),
            certificateKey: cp.certificateKey ?? '',
          }
        : null,
      ignore: [
        ...list(p, 'ignore-preflight-errors'),
        ...((j.nodeRegistration?.ignorePreflightErrors as string[]) ?? []),
      ],
      warnings: c.warnings,
    };
    if (!bt.apiServerEndpoint && !j.discovery?.file)
      throw new ExitError(aggregate([invalid('discovery', '', 'bootstrapToken or file must be set')]));
  } else {
    const cp = bool(p, 'control-plane');
    const warnings: string[] = [];
    if (!cp && (str(p, 'certificate-key') || str(p, 'apiserver-advertise-address') || str(p, 'apiserver-bind-port'))) {
      warnings.push(
        '[preflight] WARNING: --control-plane is also required when passing control-plane related flags such as [certificate-key, apiserver-advertise-address, apiserver-bind-port]',
      );
    }
    const token = str(p, 'discovery-token') ?? str(p, 'token') ?? '';
    o = {
      endpoint: p.args[0] ?? '',
      token,
      tlsToken: str(p, 'tls-bootstrap-token') ?? str(p, 'token') ?? token,
      caCertHashes: list(p, 'discovery-token-ca-cert-hash'),
      unsafeSkip: bool(p, 'discovery-token-unsafe-skip-ca-verification'),
      discoveryTimeoutMs: parseDuration(e.discoveryTimeout),
      nodeName: str(p, 'node-name') ?? e.host,
      controlPlane: cp
        ? {
            advertiseAddress: str(p, 'apiserver-advertise-address') ?? e.address,
            bindPort: Number(str(p, 'apiserver-bind-port') ?? 6443),
            certificateKey: str(p, 'certificate-key') ?? '',
          }
        : null,
      ignore: list(p, 'ignore-preflight-errors'),
      warnings,
    };
    if (!o.endpoint) throw new ExitError(aggregate([invalid('discovery', '', 'bootstrapToken or file must be set')]));
  }
  const errs: string[] = [];
  if (!TOKEN_RE.test(o.token))
    errs.push(invalid('discovery.bootstrapToken.token', o.token, 'the bootstrap token is invalid'));
  if (!o.caCertHashes.length && !o.unsafeSkip) {
    errs.push(
      invalid(
        'discovery.bootstrapToken.caCertHashes',
        '',
        'using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue',
      ),
    );
  }
  if (o.controlPlane && !isIP(o.controlPlane.advertiseAddress))
    errs.push(
      invalid(
        'controlPlane.localAPIEndpoint.advertiseAddress',
        o.controlPlane.advertiseAddress,
        'ip address is not valid',
      ),
    );
  if (o.controlPlane?.certificateKey && !/^[a-f0-9]{64}$/.test(o.controlPlane.certificateKey))
    errs.push(
      invalid('controlPlane.certificateKey', o.controlPlane.certificateKey, 'certificate key size must be 32 bytes'),
    );
  if (Number.isNaN(o.discoveryTimeoutMs)) errs.push(invalid('timeouts.discovery', '', 'time: invalid duration'));
  if (errs.length) throw new ExitError(aggregate(errs));
  return o;
}
