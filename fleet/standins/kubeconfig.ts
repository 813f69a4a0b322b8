// kubeconfig files with embedded certificates, as kubeadm writes them.
import * as fs from 'node:fs';
import * as YAML from 'yaml';

export interface KubeconfigParts {
  clusterName: string;
  server: string;
  caPem: string;
  user: string;
  certPem?: string;
  keyPem?: string;
  /** kubelet.conf after TLS bootstrap points at a file instead of embedding. */
  certFile?: string;
  keyFile?: string;
  /** bootstrap-kubelet.conf authenticates with the bootstrap token. */
  token?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export function kubeconfigText(p: KubeconfigParts): string {
  const ctx = `${p.user}@${p.clusterName}`;
  const user: Record<string, string> = {};
  if (p.certFile) user['client-certificate'] = p.certFile;
  if (p.keyFile) user['client-key'] = p.keyFile;
  if (p.certPem) user['client-certificate-data'] = b64(p.certPem);
  if (p.keyPem) user['client-key-data'] = b64(p.keyPem);
  if (p.token) user.token = p.token;
  return YAML.stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(p.caPem), server: p.server }, name: p.clusterName }],
    contexts: [{ context: { cluster: p.clusterName, user: p.user }, name: ctx }],
    'current-context': ctx,
    kind: 'Config',
    preferences: {},
    users: [{ name: p.user, user }],
  });
}

export function writeKubeconfig(file: string, p: KubeconfigParts): void {
  fs.writeFileSync(file, kubeconfigText(p), { mode: 0o600 });
}

export interface LoadedKubeconfig {
  server: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
}

interface KcDoc {
  clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string } }>;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
  users?: Array<{ name: string; user: Record<string, string> }>;
  'current-context'?: string;
}

/** Parses a kubeconfig (text) to the current context's server/CA/client credentials. */
export function parseKubeconfig(text: string): LoadedKubeconfig {
  const doc = (YAML.parse(text) ?? {}) as KcDoc;
  const ctx = doc.contexts?.find((c) => c.name === doc['current-context']) ?? doc.contexts?.[0];
  const cluster = doc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? doc.clusters?.[0];
  const user = doc.users?.find((u) => u.name === ctx?.context.user)?.user ?? {};
  const dec = (s?: string): string | undefined => (s ? Buffer.from(s, 'base64').toString('utf8') : undefined);
  const file = (f?: string): string | undefined => (f && fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
  return {
    server: cluster?.cluster.server ?? '',
    caPem: dec(cluster?.cluster['certificate-authority-data']) ?? '',
    certPem: dec(user['client-certificate-data']) ?? file(user['client-certificate']),
    keyPem: dec(user['client-key-data']) ?? file(user['client-key']),
  };
}
