// kubeadm init (first control plane).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { hostEnv, parseDuration } from './env';
import { ExitError, phaseError } from './errors';
import { bool, parseFlags } from './flags';
import { RUNNING_PREFLIGHT, WAIT_CONTROL_PLANE_FAILED, initEpilogue, markControlPlane, pullImages } from './texts';
import {
  MANIFESTS,
  controlPlanePortChecks,
  externalEtcdChecks,
  fileAvailable,
  localEtcdChecks,
  portCheck,
  privilegedUser,
  runChecks,
} from './preflight';
import { PKI, generateCerts } from './certs';
import { writeControlPlaneManifests, writeEtcdManifest, writeKubeletFiles } from './manifests';
import { writeAdminKubeconfigs } from './kubeconfigs';
import { out, sleep, startAndWait, writeKubeletConf, fmtSeconds } from './nodesetup';
import { caCertHash } from './pki';
import { newEtcdId, updateState } from './state';
import { phaseFault } from './faultcheck';
import { readTiming } from '../timing';
import { InitOptions, initOptions } from './initconfig';
import { callWithRetry, urlError } from './client';
import { apiRequest } from './http';
import { parseKubeconfig } from './kubeconfig';
import { encryptCerts, randomKey } from './uploadcerts';
import { realInitPhase } from './realkubeadm';
import { kubernetesNetworkRan } from './netstate';

export const INIT_FLAGS = {
  config: 'string',
  'ignore-preflight-errors': 'list',
  'skip-phases': 'list',
  'dry-run': 'bool',
  v: 'string',
  'node-name': 'string',
  'upload-certs': 'bool',
  'certificate-key': 'string',
  'control-plane-endpoint': 'string',
  'pod-network-cidr': 'string',
  'service-cidr': 'string',
  'apiserver-advertise-address': 'string',
  'apiserver-bind-port': 'string',
  'apiserver-cert-extra-sans': 'list',
  'kubernetes-version': 'string',
  token: 'string',
  'token-ttl': 'string',
  'cri-socket': 'string',
  'skip-token-print': 'bool',
  'skip-certificate-key-print': 'bool',
  'cert-dir': 'string',
  'service-dns-domain': 'string',
  'image-repository': 'string',
  'feature-gates': 'string',
  patches: 'string',
  'kubeconfig-dir': 'string',
  rootfs: 'string',
} as const;

export function randomToken(): string {
  const a = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number): string => Array.from({ length: n }, () => a[crypto.randomInt(a.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/**
 * Real control planes take minutes to come up (images, etcd, the API server's start): the fleet's
 * timing.json says how long, then a wait-control-plane fault may strike as kubeadm's timeout would.
 * Everything earlier phases wrote (certs, kubeconfigs incl. kubelet.conf, manifests) is on disk by now.
 */
async function controlPlaneBootTime(dir: string): Promise<void> {
  await sleep(readTiming(dir).initMs);
  await phaseFault('wait-control-plane', () => new ExitError(WAIT_CONTROL_PLANE_FAILED));
}

export async function init(argv: string[]): Promise<number> {
  const e = hostEnv();
  const p = parseFlags(argv, INIT_FLAGS, { v: 'v' });
  if (p.args.length) throw new ExitError(`unknown command "${p.args[0]}" for "kubeadm init"`);
  const o: InitOptions = initOptions(p, e);
  for (const w of o.warnings) process.stderr.write(w + '\n');
  const endpoint = o.controlPlaneEndpoint || `${o.advertiseAddress}:${o.bindPort}`;
  const ext = o.externalEtcd
    ? (
        o.clusterConfiguration.etcd as {
          external: { endpoints?: string[]; caFile?: string; certFile?: string; keyFile?: string };
        }
      ).external
    : undefined;

  out(`[init] Using Kubernetes version: ${o.kubernetesVersion}`, RUNNING_PREFLIGHT);
  await runChecks([privilegedUser()], o.ignore);
  const kv = Number(o.kubernetesVersion.split('.')[1]);
  if (kv > e.minor)
    process.stderr.write(
      `\t[WARNING KubernetesVersion]: Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. Kubernetes version: ${o.kubernetesVersion.slice(1)}. Kubeadm version: 1.${e.minor}.x\n`,
    );
  await runChecks(
    [
      ...controlPlanePortChecks(e.address, o.bindPort, e.minor),
      ...MANIFESTS.map(fileAvailable),
      portCheck(e.address, 10250),
      ...(ext ? externalEtcdChecks(ext) : localEtcdChecks(e.address)),
    ],
    o.ignore,
  );
  out(...pullImages(e.minor));

  // certs (by the real kubeadm's phase when there is one for this release)
  const certLog =
    realInitPhase(e.minor, 'certs', p) ??
    (await generateCerts({
      nodeName: o.nodeName,
      advertiseAddress: o.advertiseAddress,
      controlPlaneEndpoint: endpoint,
      certSANs: o.certSANs,
      serviceSubnet: o.serviceSubnet,
      minor: e.minor,
      createShared: true,
      externalEtcd: o.externalEtcd,
    }));
  out(...certLog);
  const caPem = fs.readFileSync(`${PKI}/ca.crt`, 'utf8');
  const hash = caCertHash(caPem);

  // kubeconfig
  out(
    ...(realInitPhase(e.minor, 'kubeconfig', p) ??
      (await writeAdminKubeconfigs({ ...o, endpoint, caPem, minor: e.minor, init: true }))),
  );

  // etcd + control-plane manifests
  const mctx = {
    nodeName: o.nodeName,
    address: o.advertiseAddress,
    bindPort: o.bindPort,
    version: o.kubernetesVersion,
    podSubnet: o.podSubnet,
    serviceSubnet: o.serviceSubnet,
    initialCluster: `${o.nodeName}=https://${o.advertiseAddress}:2380`,
    initialClusterState: 'new' as const,
    externalEtcd: ext ? { ...ext, endpoints: (ext.endpoints ?? []).map(String) } : undefined,
  };
  if (!o.externalEtcd) {
    writeEtcdManifest(mctx);
    out('[etcd] Creating static Pod manifest for local etcd in "/etc/kubernetes/manifests"');
    fs.mkdirSync('/var/lib/etcd/member/snap', { recursive: true });
    fs.mkdirSync('/var/lib/etcd/member/wal', { recursive: true });
    fs.writeFileSync('/var/lib/etcd/member/wal/0000000000000000-0000000000000000.wal', crypto.randomBytes(64));
  }
  writeControlPlaneManifests(mctx);
  out('[control-plane] Using manifest folder "/etc/kubernetes/manifests"');
  for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
    out(`[control-plane] Creating static Pod manifest for "${c}"`);

  // kubelet-start + wait for the control plane
  writeKubeletFiles(o.advertiseAddress);
  out(
    '[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"',
    '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
    '[kubelet-start] Starting the kubelet',
  );
  if (e.minor >= 31) {
    out(
      '[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "/etc/kubernetes/manifests"',
    );
    out('[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s');
    out(
      `[kubelet-check] The kubelet is healthy after ${fmtSeconds(await startAndWait('kubelet', `http://${e.address}:10250`, undefined, 240e3))}`,
    );
    out('[api-check] Waiting for a healthy API server. This can take up to 4m0s');
    await controlPlaneBootTime(e.dir);
    out(
      `[api-check] The API server is healthy after ${fmtSeconds(await startAndWait('apiserver', `https://${o.advertiseAddress}:${o.bindPort}`, caPem, 240e3))}`,
    );
  } else {
    out(
      '[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "/etc/kubernetes/manifests". This can take up to 4m0s',
    );
    await startAndWait('kubelet', `http://${e.address}:10250`, undefined, 240e3);
    await controlPlaneBootTime(e.dir);
    out(
      `[apiclient] All control plane components are healthy after ${fmtSeconds(await startAndWait('apiserver', `https://${o.advertiseAddress}:${o.bindPort}`, caPem, 240e3))}`,
    );
  }

  // From here kubeadm talks to the cluster through controlPlaneEndpoint (the load balancer).
  const admin = parseKubeconfig(fs.readFileSync('/etc/kubernetes/admin.conf', 'utf8'));
  try {
    await callWithRetry(
      admin,
      'GET',
      '/api/v1/namespaces/kube-system/configmaps/kubeadm-config',
      undefined,
      parseDuration('1m'),
    );
  } catch (err) {
    throw phaseError(
      'upload-config/kubeadm',
      `error uploading the kubeadm ClusterConfiguration: unable to create ConfigMap: ${urlError('POST', admin.server, '/api/v1/namespaces/kube-system/configmaps', err)}`,
    );
  }
  const token = o.token || randomToken();
  const initToken = {
    id: token.split('.')[0],
    secret: token.split('.')[1],
    expires: o.tokenTTLms ? Date.now() + o.tokenTTLms : null,
    usages: ['signing', 'authentication'],
    description: "The default bootstrap token generated by 'kubeadm init'.",
    groups: ['system:bootstrappers:kubeadm:default-node-token'],
  };
  const certKey = o.uploadCerts ? o.certificateKey || randomKey() : undefined;
  updateState(e.dir, (s) => {
    s.initialized = true;
    s.clusterName = o.clusterName;
    s.kubernetesVersion = o.kubernetesVersion;
    s.controlPlaneEndpoint = o.controlPlaneEndpoint;
    s.caCert = caPem;
    s.clusterConfiguration = o.clusterConfiguration;
    // With external etcd the Node and the token go through the API server into etcd (below).
    s.tokens = ext ? [] : [initToken];
    // The kubelet registered the Node once the API server answered; mark-control-plane labels it below.
    s.nodes = ext
      ? {}
      : {
          [o.nodeName]: {
            name: o.nodeName,
            role: 'worker',
            address: o.advertiseAddress,
            createdAt: Date.now(),
            version: o.kubernetesVersion,
          },
        };
    s.etcdClusterId = newEtcdId();
    s.etcdMembers = o.externalEtcd
      ? []
      : [
          {
            id: newEtcdId(),
            name: o.nodeName,
            peerURL: `https://${o.advertiseAddress}:2380`,
            clientURL: `https://${o.advertiseAddress}:2379`,
          },
        ];
    s.applied = {};
    s.cniApplied = false;
    s.certsSecret = certKey ? encryptCerts(certKey, o.externalEtcd) : undefined;
  });
  out('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace');
  out(
    e.minor <= 23
      ? `[kubelet] Creating a ConfigMap "kubelet-config-1.${kv}" in namespace kube-system with the configuration for the kubelets in the cluster`
      : '[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the kubelets in the cluster',
  );
  if (certKey) {
    out(
      '[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace',
      '[upload-certs] Using certificate key:',
      bool(p, 'skip-certificate-key-print') ? '<value withheld>' : certKey,
    );
  } else out('[upload-certs] Skipping phase. Please see --upload-certs');
  if (ext) {
    // The kubelet's registration and the bootstrap-token phase, against this node's API server (stored in etcd).
    const local = (method: string, path: string, body: unknown): Promise<unknown> =>
      apiRequest({
        server: `https://${o.advertiseAddress}:${o.bindPort}`,
        method,
        path,
        body,
        caPem,
        timeoutMs: 10000,
      }).then((r) => {
        if (r.status >= 300) throw new Error(`the server returned ${r.status}: ${JSON.stringify(r.body)}`);
      });
    await local('POST', '/api/v1/nodes', {
      name: o.nodeName,
      address: o.advertiseAddress,
      version: o.kubernetesVersion,
    }).catch((err: Error) => {
      throw phaseError('mark-control-plane', `error applying control-plane label and taints: ${err.message}`);
    });
    await local('PATCH', `/api/v1/nodes/${o.nodeName}`, { role: 'control-plane' }).catch((err: Error) => {
      throw phaseError('mark-control-plane', `error applying control-plane label and taints: ${err.message}`);
    });
    await local('POST', '/api/v1/namespaces/kube-system/secrets', initToken).catch((err: Error) => {
      throw phaseError('bootstrap-token', `error updating or creating token: ${err.message}`);
    });
  } else updateState(e.dir, (s) => (s.nodes[o.nodeName].role = 'control-plane'));
  out(...markControlPlane(e.minor, o.nodeName));
  out(
    `[bootstrap-token] Using token: ${token}`,
    '[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles',
    '[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes',
    '[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get long term certificate credentials',
    '[bootstrap-token] Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a Node Bootstrap Token',
    '[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client certificates in the cluster',
    '[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace',
    '[kubelet-finalize] Updating "/etc/kubernetes/kubelet.conf" to point to a rotatable kubelet client certificate and key',
    '[addons] Applied essential addon: CoreDNS',
    '[addons] Applied essential addon: kube-proxy',
  );
  writeKubeletConf(`https://${endpoint}`, caPem, o.clusterName, o.nodeName);
  kubernetesNetworkRan(o.nodeName);
  const shownToken = bool(p, 'skip-token-print') ? '<value withheld>' : token;
  const shownKey = certKey && bool(p, 'skip-certificate-key-print') ? '<value withheld>' : certKey;
  process.stdout.write(initEpilogue(e.minor, endpoint, shownToken, hash, !!o.controlPlaneEndpoint, shownKey));
  return 0;
}
