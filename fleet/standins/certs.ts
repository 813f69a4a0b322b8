// The certificate set of a control-plane node, in kubeadm's order and with its log lines.
import * as fs from 'node:fs';
import { createCA, createCert, generateSAKeys } from './pki';

export const PKI = '/etc/kubernetes/pki';

export interface CertContext {
  nodeName: string;
  advertiseAddress: string;
  controlPlaneEndpoint: string;
  certSANs: string[];
  serviceSubnet: string;
  minor: number;
  /** init creates the CAs and sa keys; a CP join reuses the copied ones. */
  createShared: boolean;
  /** etcd.external: no etcd CA or etcd certs (the user brings apiserver-etcd-client, as kubeadm expects). */
  externalEtcd?: boolean;
}

function firstServiceIP(subnet: string): string {
  const [ip] = subnet.split('/');
  const p = ip.split('.').map(Number);
  p[3] += 1;
  return p.join('.');
}

function apiserverSANs(c: CertContext): { dns: string[]; ips: string[] } {
  const dns = [
    c.nodeName,
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
  const ips = [firstServiceIP(c.serviceSubnet), c.advertiseAddress];
  const epHost = c.controlPlaneEndpoint.replace(/:\d+$/, '');
  for (const s of [epHost, ...c.certSANs].filter(Boolean)) {
    const list = /^[\d.]+$/.test(s) || s.includes(':') ? ips : dns;
    if (!list.includes(s)) list.push(s);
  }
  return { dns, ips };
}

/** Generates everything; returns the log lines (printed by the caller in order). */
export async function generateCerts(c: CertContext): Promise<string[]> {
  fs.mkdirSync(`${PKI}/etcd`, { recursive: true });
  const log: string[] = [`[certs] Using certificateDir folder "${PKI}"`];
  const api = apiserverSANs(c);
  const etcdSans = { dns: [c.nodeName, 'localhost'], ips: [c.advertiseAddress, '127.0.0.1', '::1'] };
  const fmt = (s: { dns: string[]; ips: string[] }): string =>
    `DNS names [${s.dns.join(' ')}] and IPs [${s.ips.join(' ')}]`;
  const admins = c.minor >= 29 ? 'kubeadm:cluster-admins' : 'system:masters';

  // CAs first (sequentially only where a signer is needed), then leaves in parallel.
  const ext = !!c.externalEtcd;
  if (c.createShared)
    await Promise.all([
      createCA(PKI, 'ca', 'kubernetes'),
      createCA(PKI, 'front-proxy-ca', 'front-proxy-ca'),
      ...(ext ? [] : [createCA(PKI, 'etcd/ca', 'etcd-ca')]),
    ]);
  await Promise.all([
    createCert(PKI, 'ca', 'apiserver', { subject: '/CN=kube-apiserver', usage: 'server', ...api }),
    createCert(PKI, 'ca', 'apiserver-kubelet-client', {
      subject: `/O=${admins}/CN=kube-apiserver-kubelet-client`,
      usage: 'client',
    }),
    createCert(PKI, 'front-proxy-ca', 'front-proxy-client', { subject: '/CN=front-proxy-client', usage: 'client' }),
    ...(ext
      ? []
      : [
          createCert(PKI, 'etcd/ca', 'etcd/server', { subject: `/CN=${c.nodeName}`, usage: 'both', ...etcdSans }),
          createCert(PKI, 'etcd/ca', 'etcd/peer', { subject: `/CN=${c.nodeName}`, usage: 'both', ...etcdSans }),
          createCert(PKI, 'etcd/ca', 'etcd/healthcheck-client', {
            subject: '/CN=kube-etcd-healthcheck-client',
            usage: 'client',
          }),
          createCert(PKI, 'etcd/ca', 'apiserver-etcd-client', {
            subject: '/CN=kube-apiserver-etcd-client',
            usage: 'client',
          }),
        ]),
    c.createShared ? generateSAKeys(PKI) : Promise.resolve(),
  ]);
  const gen = (n: string): string => `[certs] Generating "${n}" certificate and key`;
  // kubeadm's init certs phase (cmd/kubeadm/app/cmd/phases/init/certs.go) skips the etcd-ca-signed ones with external etcd.
  const skip = (n: string): string => `[certs] External etcd mode: Skipping ${n} certificate generation`;
  const etcdLeaves = ext
    ? ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client'].map(skip)
    : [
        gen('etcd/server'),
        `[certs] etcd/server serving cert is signed for ${fmt(etcdSans)}`,
        gen('etcd/peer'),
        `[certs] etcd/peer serving cert is signed for ${fmt(etcdSans)}`,
        gen('etcd/healthcheck-client'),
        gen('apiserver-etcd-client'),
      ];
  if (c.createShared) {
    log.push(
      gen('ca'),
      gen('apiserver'),
      `[certs] apiserver serving cert is signed for ${fmt(api)}`,
      gen('apiserver-kubelet-client'),
      gen('front-proxy-ca'),
      gen('front-proxy-client'),
    );
    log.push(
      ext ? '[certs] External etcd mode: Skipping etcd/ca certificate authority generation' : gen('etcd/ca'),
      ...etcdLeaves,
      '[certs] Generating "sa" key and public key',
    );
  } else {
    // Order observed on control-plane joins: etcd certs, then the apiserver ones. A join's CreatePKIAssets
    // (cmd/kubeadm/app/phases/certs/certs.go) uses GetCertsWithoutEtcd with external etcd: no etcd lines.
    if (!ext) log.push(...etcdLeaves);
    log.push(gen('apiserver'), `[certs] apiserver serving cert is signed for ${fmt(api)}`);
    log.push(
      gen('apiserver-kubelet-client'),
      gen('front-proxy-client'),
      `[certs] Valid certificates and keys now exist in "${PKI}"`,
      '[certs] Using the existing "sa" key',
    );
  }
  return log;
}

/** Client certificate for a kubeconfig, signed by the cluster CA (kept in memory). */
export async function clientCert(subject: string): Promise<{ certPem: string; keyPem: string }> {
  const tmp = fs.mkdtempSync('/tmp/fleet-kc-');
  try {
    fs.copyFileSync(`${PKI}/ca.crt`, `${tmp}/ca.crt`);
    fs.copyFileSync(`${PKI}/ca.key`, `${tmp}/ca.key`);
    await createCert(tmp, 'ca', 'client', { subject, usage: 'client' });
    return {
      certPem: fs.readFileSync(`${tmp}/client.crt`, 'utf8'),
      keyPem: fs.readFileSync(`${tmp}/client.key`, 'utf8'),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
