// The kubeconfig phase: admin.conf (+super-admin.conf on init, >=1.29), kubelet.conf (init only;
// joins get theirs from the TLS bootstrap), controller-manager.conf and scheduler.conf.
import * as fs from 'node:fs';
import { clientCert } from './certs';
import { writeKubeletClient } from './nodesetup';
import { writeKubeconfig } from './kubeconfig';

export interface KubeconfigContext {
  nodeName: string;
  advertiseAddress: string;
  bindPort: number;
  endpoint: string;
  clusterName: string;
  caPem: string;
  minor: number;
  init: boolean;
}

export async function writeAdminKubeconfigs(c: KubeconfigContext): Promise<string[]> {
  const log: string[] = c.init ? [] : ['[kubeconfig] Generating kubeconfig files'];
  log.push('[kubeconfig] Using kubeconfig folder "/etc/kubernetes"');
  const lb = `https://${c.endpoint}`;
  // Since ~1.19 controller-manager and scheduler talk to their local API server.
  const localUrl = `https://${c.advertiseAddress}:${c.bindPort}`;
  const admins = c.minor >= 29 ? 'kubeadm:cluster-admins' : 'system:masters';
  const jobs: Array<[string, string, string, string]> = [
    ['admin.conf', lb, 'kubernetes-admin', `/O=${admins}/CN=kubernetes-admin`],
  ];
  if (c.init && c.minor >= 29)
    jobs.push(['super-admin.conf', lb, 'kubernetes-super-admin', '/O=system:masters/CN=kubernetes-super-admin']);
  if (c.init)
    jobs.push(['kubelet.conf', lb, `system:node:${c.nodeName}`, `/O=system:nodes/CN=system:node:${c.nodeName}`]);
  jobs.push([
    'controller-manager.conf',
    localUrl,
    'system:kube-controller-manager',
    '/CN=system:kube-controller-manager',
  ]);
  jobs.push(['scheduler.conf', localUrl, 'system:kube-scheduler', '/CN=system:kube-scheduler']);
  const certs = await Promise.all(jobs.map((j) => clientCert(j[3])));
  jobs.forEach(([file, server, user], i) => {
    if (file === 'kubelet.conf') writeKubeletClient(certs[i].certPem, certs[i].keyPem);
    writeKubeconfig(`/etc/kubernetes/${file}`, {
      clusterName: c.clusterName,
      server,
      caPem: c.caPem,
      user,
      ...certs[i],
    });
    log.push(`[kubeconfig] Writing "${file}" kubeconfig file`);
  });
  fs.chmodSync('/etc/kubernetes/admin.conf', 0o600);
  return log;
}
