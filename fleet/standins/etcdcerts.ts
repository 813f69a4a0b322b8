// `kubeadm init phase certs etcd-ca|etcd-server|etcd-peer|etcd-healthcheck-client|apiserver-etcd-client`,
// as the external etcd guide runs them on each etcd host (kubernetes.io/docs/setup/production-environment/
// tools/kubeadm/setup-ha-etcd-with-kubeadm/). Texts from cmd/kubeadm/app/cmd/phases/init/certs.go
// (runCAPhase, runCertPhase) and cmd/kubeadm/app/phases/certs/certs.go; the certificates' CN, SANs and
// usages from cmd/kubeadm/app/phases/certs/certlist.go and pkiutil's GetEtcdAltNames/GetEtcdPeerAltNames.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { HostEnv, hostEnv } from './env';
import { ExitError, phaseError } from './errors';
import { Doc, isIP, loadConfigFile } from './config';
import { Parsed, parseFlags, str } from './flags';
import { out } from './nodesetup';
import { createCA, createCert } from './pki';

export interface PhaseConfig {
  nodeName: string;
  advertiseAddress: string;
  certDir: string;
  /** ClusterConfiguration.etcd */
  etcd: { local?: Doc; external?: Doc };
  apiVersion: string;
  warnings: string[];
}

/** The InitConfiguration + ClusterConfiguration of a phase's --config (kubeadm's defaults without one). */
export function phaseConfig(p: Parsed, e: HostEnv): PhaseConfig {
  const file = str(p, 'config');
  const c = file ? loadConfigFile(file, e.minor, ['InitConfiguration', 'ClusterConfiguration']) : undefined;
  const init = c?.docs.get('InitConfiguration') ?? {};
  const cluster = c?.docs.get('ClusterConfiguration') ?? {};
  const cfg: PhaseConfig = {
    nodeName: init.nodeRegistration?.name ?? e.host,
    advertiseAddress: init.localAPIEndpoint?.advertiseAddress ?? e.address,
    certDir: str(p, 'cert-dir') ?? cluster.certificatesDir ?? '/etc/kubernetes/pki',
    etcd: cluster.etcd?.external ? { external: cluster.etcd.external } : { local: cluster.etcd?.local ?? {} },
    apiVersion: c?.version ?? (e.minor >= 31 ? 'v1beta4' : 'v1beta3'),
    warnings: c?.warnings ?? [],
  };
  if (!isIP(cfg.advertiseAddress))
    throw new ExitError(
      `localAPIEndpoint.advertiseAddress: Invalid value: ${JSON.stringify(cfg.advertiseAddress)}: ip address is not valid`,
    );
  return cfg;
}

interface LeafSpec {
  base: string;
  cn?: string;
  /** apiserver-etcd-client and etcd/healthcheck-client are in system:masters up to kubeadm 1.28. */
  masters?: boolean;
  usage: 'both' | 'client';
  sans?: 'serverCertSANs' | 'peerCertSANs';
}

const LEAVES: Record<string, LeafSpec> = {
  'etcd-server': { base: 'etcd/server', usage: 'both', sans: 'serverCertSANs' },
  'etcd-peer': { base: 'etcd/peer', usage: 'both', sans: 'peerCertSANs' },
  'etcd-healthcheck-client': {
    base: 'etcd/healthcheck-client',
    cn: 'kube-etcd-healthcheck-client',
    masters: true,
    usage: 'client',
  },
  'apiserver-etcd-client': {
    base: 'apiserver-etcd-client',
    cn: 'kube-apiserver-etcd-client',
    masters: true,
    usage: 'client',
  },
};
export const ETCD_CERT_PHASES = ['etcd-ca', ...Object.keys(LEAVES)];

const FLAGS = {
  'cert-dir': 'string',
  config: 'string',
  'kubernetes-version': 'string',
  'dry-run': 'bool',
  v: 'string',
} as const;

/** DNS names sorted and both lists deduplicated, as pkiutil.RemoveDuplicateAltNames does. */
function altNames(c: PhaseConfig, extra: unknown): { dns: string[]; ips: string[] } {
  const dns = [c.nodeName, 'localhost'];
  const ips = [c.advertiseAddress, '127.0.0.1', '::1'];
  for (const s of Array.isArray(extra) ? extra.map(String) : []) (isIP(s) || s.includes(':') ? ips : dns).push(s);
  return { dns: [...new Set(dns)].sort(), ips: [...new Set(ips)] };
}

function loadCert(file: string): crypto.X509Certificate | string {
  try {
    return new crypto.X509Certificate(fs.readFileSync(file));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? `couldn't load the certificate file ${file}: open ${file}: no such file or directory`
      : `failed to parse the certificate file ${file}`;
  }
}

export async function etcdCertPhase(name: string, argv: string[]): Promise<number> {
  const e = hostEnv();
  const p = parseFlags(argv, FLAGS, { v: 'v' });
  if (p.args.length) throw new ExitError(`unknown command "${p.args[0]}" for "kubeadm init phase certs ${name}"`);
  const c = phaseConfig(p, e);
  for (const w of c.warnings) process.stderr.write(w + '\n');
  const dir = c.certDir;
  const phase = `certs/${name}`;
  if (name === 'etcd-ca') {
    if (c.etcd.external)
      return (out('[certs] External etcd mode: Skipping etcd/ca certificate authority generation'), 0);
    if (typeof loadCert(`${dir}/etcd/ca.crt`) !== 'string') {
      out(
        fs.existsSync(`${dir}/etcd/ca.key`)
          ? '[certs] Using existing etcd/ca certificate authority'
          : '[certs] Using existing etcd/ca keyless certificate authority',
      );
      return 0;
    }
    await createCA(dir, 'etcd/ca', 'etcd-ca');
    out('[certs] Generating "etcd/ca" certificate and key');
    return 0;
  }
  const spec = LEAVES[name];
  if (c.etcd.external) return (out(`[certs] External etcd mode: Skipping ${spec.base} certificate generation`), 0);
  const ca = loadCert(`${dir}/etcd/ca.crt`);
  const leaf = loadCert(`${dir}/${spec.base}.crt`);
  if (typeof leaf !== 'string' && fs.existsSync(`${dir}/${spec.base}.key`)) {
    if (typeof ca === 'string') throw phaseError(phase, `couldn't load CA certificate etcd-ca: ${ca}`);
    if (!leaf.verify(ca.publicKey))
      throw phaseError(
        phase,
        `[certs] certificate ${spec.base} not signed by CA certificate etcd/ca: x509: certificate signed by unknown authority`,
      );
    out(`[certs] Using existing ${spec.base} certificate and key on disk`);
    return 0;
  }
  // certs.LoadCertificateAuthority, wrapped by CreateCertAndKeyFilesWithCA.
  if (!fs.existsSync(`${dir}/etcd/ca.crt`) && !fs.existsSync(`${dir}/etcd/ca.key`)) {
    throw phaseError(
      phase,
      `couldn't load CA certificate etcd-ca: couldn't load etcd/ca certificate authority from ${dir}`,
    );
  }
  if (typeof ca === 'string')
    throw phaseError(
      phase,
      `couldn't load CA certificate etcd-ca: failure loading etcd/ca certificate authority: ${ca}`,
    );
  if (!fs.existsSync(`${dir}/etcd/ca.key`)) {
    const f = `${dir}/etcd/ca.key`;
    throw phaseError(
      phase,
      `couldn't load CA certificate etcd-ca: failure loading etcd/ca certificate authority: couldn't load the private key file ${f}: open ${f}: no such file or directory`,
    );
  }
  const sans = spec.sans ? altNames(c, c.etcd.local?.[spec.sans]) : undefined;
  const org = spec.masters && e.minor <= 28 ? '/O=system:masters' : '';
  await createCert(dir, 'etcd/ca', spec.base, {
    subject: `${org}/CN=${spec.cn ?? c.nodeName}`,
    usage: spec.usage,
    ...sans,
  });
  out(`[certs] Generating "${spec.base}" certificate and key`);
  if (sans)
    out(
      `[certs] ${spec.base} serving cert is signed for DNS names [${sans.dns.join(' ')}] and IPs [${sans.ips.join(' ')}]`,
    );
  return 0;
}
