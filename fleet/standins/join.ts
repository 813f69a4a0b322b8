// kubeadm join (worker or additional control plane).
import * as crypto from 'node:crypto';
// kubeadm join (worker or additional control plane).
import * as fs from 'node:fs';
import * as YAML from 'yaml';
import { hostEnv } from './env';
import { ExitError, phaseError } from './errors';
import { parseFlags } from './flags';
import {
  CRISOCKET_TIMEOUT,
  ETCD_MEMBER_ADD_FAILED,
  RUNNING_PREFLIGHT,
  joinControlPlaneEpilogue,
  joinWorkerEpilogue,
  markControlPlane,
  notReadyToJoinControlPlane,
  pullImages,
} from './texts';
import {
  MANIFESTS,
  controlPlanePortChecks,
  dirAvailable,
  externalEtcdChecks,
  fileAvailable,
  localEtcdChecks,
  portCheck,
  privilegedUser,
  runChecks,
} from './preflight';
import { JoinOptions, joinOptions } from './joinconfig';
import { discover } from './discovery';
import { PKI, generateCerts } from './certs';
import { writeAdminKubeconfigs } from './kubeconfigs';
import { ManifestContext, writeControlPlaneManifests, writeEtcdManifest, writeKubeletFiles } from './manifests';
import { fmtSeconds, out, sleep, startAndWait, writeKubeletClient, writeKubeletConf } from './nodesetup';
import { writeKubeconfig } from './kubeconfig';
import { phaseFault } from './faultcheck';
import { readTiming } from '../timing';
import { ApiError, apiRequest } from './http';
import { createCSR } from './pki';
import { newEtcdId, readState, updateState } from './state';
import { decryptCerts } from './uploadcerts';
import { kubernetesNetworkRan } from './netstate';

export const JOIN_FLAGS = {
  config: 'string',
  'ignore-preflight-errors': 'list',
  'skip-phases': 'list',
  'dry-run': 'bool',
  v: 'string',
  'node-name': 'string',
  token: 'string',
  'discovery-token': 'string',
  'tls-bootstrap-token': 'string',
  'discovery-token-ca-cert-hash': 'list',
  'discovery-token-unsafe-skip-ca-verification': 'bool',
  'discovery-file': 'string',
  'control-plane': 'bool',
  'certificate-key': 'string',
  'apiserver-advertise-address': 'string',
  'apiserver-bind-port': 'string',
  'cri-socket': 'string',
  patches: 'string',
} as const;

const REQUIRED_SHARED: Array<[string, string]> = [
  [`${PKI}/ca.crt`, "failure loading certificate for CA: couldn't load the certificate file"],
  [`${PKI}/ca.key`, "failure loading key for CA: couldn't load the private key file"],
  [`${PKI}/sa.key`, "failure loading key for service account: couldn't load the private key file"],
  [`${PKI}/sa.pub`, "failure loading key for service account: couldn't load the public key file"],
  [`${PKI}/front-proxy-ca.crt`, "failure loading certificate for front-proxy CA: couldn't load the certificate file"],
  [`${PKI}/front-proxy-ca.key`, "failure loading key for front-proxy CA: couldn't load the private key file"],
  [`${PKI}/etcd/ca.crt`, "failure loading certificate for etcd CA: couldn't load the certificate file"],
  [`${PKI}/etcd/ca.key`, "failure loading key for etcd CA: couldn't load the private key file"],
];

/** certs.SharedCertificateExists: the etcd CA only with local/stacked etcd. */
function sharedCertProblems(stacked: boolean): string[] {
  const probs: string[] = [];
  for (const [file, text] of REQUIRED_SHARED) {
    if (!stacked && file.startsWith(`${PKI}/etcd/`)) continue;
    // A missing key next to a missing cert is reported once (for the cert), as kubeadm does.
    if (file.endsWith('.key') && file !== `${PKI}/sa.key` && !fs.existsSync(file.replace(/\.key$/, '.crt'))) continue;
    if (file === `${PKI}/sa.pub` && !fs.existsSync(`${PKI}/sa.key`)) continue;
    if (!fs.existsSync(file)) probs.push(`${text} ${file}: open ${file}: no such file or directory`);
  }
  return probs;
}

async function api(
  server: string,
  caPem: string,
  method: string,
  path: string,
  body: unknown,
  bearer?: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any API object, read field by field as Kubernetes clients do
): Promise<{ status: number; body: any }> {
  return apiRequest({ server, method, path, body, caPem, bearer, timeoutMs: 10000 });
}

export async function join(argv: string[]): Promise<number> {
  const e = hostEnv();
  const p = parseFlags(argv, JOIN_FLAGS, { v: 'v' });
  const o: JoinOptions = joinOptions(p, e);
  for (const w of o.warnings) process.stderr.write(w + '\n');
  const cp = o.controlPlane;

  out(RUNNING_PREFLIGHT);
  await runChecks([privilegedUser()], o.ignore);
  await runChecks(
    [
      dirAvailable('/etc/kubernetes/manifests'),
      fileAvailable('/etc/kubernetes/kubelet.conf'),
      fileAvailable('/etc/kubernetes/bootstrap-kubelet.conf'),
      ...(cp ? [] : [fileAvailable(`${PKI}/ca.crt`)]),
      portCheck(e.address, 10250),
    ],
    o.ignore,
  );
  out('[preflight] Reading configuration from the cluster...');
  out("[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'");
  const d = await discover(o.endpoint, o.token, o.caCertHashes, o.unsafeSkip, o.discoveryTimeoutMs);
  let cfg: {
    controlPlaneEndpoint?: string;
    clusterName?: string;
    kubernetesVersion?: string;
    etcd?: { external?: ExternalEtcd };
  };
  try {
    const r = await api(
      d.server,
      d.caPem,
      'GET',
      '/api/v1/namespaces/kube-system/configmaps/kubeadm-config',
      undefined,
    );
    cfg = YAML.parse(r.body?.data?.ClusterConfiguration ?? '{}') ?? {};
  } catch (err) {
    throw phaseError(
      'preflight',
      `unable to fetch the kubeadm-config ConfigMap: failed to get config map: Get "${d.server}/api/v1/namespaces/kube-system/configmaps/kubeadm-config?timeout=10s": ${(err as Error).message}`,
    );
  }
  const version = cfg.kubernetesVersion ?? e.version;
  const clusterName = cfg.clusterName ?? 'kubernetes';
  const stacked = !cfg.etcd?.external;

  if (cp) {
    if (!cfg.controlPlaneEndpoint)
      throw phaseError(
        'preflight',
        notReadyToJoinControlPlane(
          "unable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address",
        ),
      );
    if (!cp.certificateKey) {
      const probs = sharedCertProblems(stacked);
      if (probs.length)
        throw phaseError('preflight', notReadyToJoinControlPlane(e.minor >= 19 ? `[${probs.join(', ')}]` : probs[0]));
    }
    out('[preflight] Running pre-flight checks before initializing the new control plane instance');
    await runChecks(
      [
        ...controlPlanePortChecks(e.address, cp.bindPort, e.minor),
        ...MANIFESTS.map(fileAvailable),
        ...(stacked ? localEtcdChecks(e.address) : externalEtcdChecks(cfg.etcd!.external!, !!cp.certificateKey)),
      ],
      o.ignore,
    );
    out(...pullImages(e.minor));
    if (cp.certificateKey) {
      out('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace');
      const r = await api(
        d.server,
        d.caPem,
        'GET',
        '/api/v1/namespaces/kube-system/secrets/kubeadm-certs',
        undefined,
        o.tlsToken,
      ).catch((err: ApiError) => {
        throw phaseError(
          'control-plane-prepare/download-certs',
          `error downloading certs: error downloading the secret: ${err.message}`,
        );
      });
      if (r.status === 404)
        throw phaseError(
          'control-plane-prepare/download-certs',
          'error downloading certs: error downloading the secret: Secret "kubeadm-certs" was not found in the "kube-system" Namespace. This Secret might have expired. Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane to generate a new one',
        );
      let files: Array<[string, Buffer]>;
      try {
        files = decryptCerts(cp.certificateKey, r.body);
      } catch (err) {
        throw phaseError('control-plane-prepare/download-certs', `error downloading certs: ${(err as Error).message}`);
      }
      for (const [path, buf] of files) {
        fs.mkdirSync(path.replace(/\/[^/]+$/, ''), { recursive: true });
        if (buf.length) fs.writeFileSync(path, buf, { mode: path.endsWith('.key') ? 0o600 : 0o644 });
      }
    }
    const endpoint = cfg.controlPlaneEndpoint;
    out(
      ...(await generateCerts({
        nodeName: o.nodeName,
        advertiseAddress: cp.advertiseAddress,
        controlPlaneEndpoint: endpoint,
        certSANs: [],
        serviceSubnet: '10.96.0.0/12',
        minor: e.minor,
        createShared: false,
        externalEtcd: !stacked,
      })),
    );
    out(
      ...(await writeAdminKubeconfigs({
        nodeName: o.nodeName,
        advertiseAddress: cp.advertiseAddress,
        bindPort: cp.bindPort,
        endpoint,
        clusterName,
        caPem: d.caPem,
        minor: e.minor,
        init: false,
      })),
    );
    writeControlPlaneManifests(
      manifestContext(o.nodeName, cp, version, readState(e.dir).etcdMembers, cfg.etcd?.external),
    );
    out('[control-plane] Using manifest folder "/etc/kubernetes/manifests"');
    for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
      out(`[control-plane] Creating static Pod manifest for "${c}"`);
    if (stacked) out('[check-etcd] Checking that the etcd cluster is healthy');
  } else {
    fs.mkdirSync(PKI, { recursive: true });
    fs.writeFileSync(`${PKI}/ca.crt`, d.caPem);
  }

  await kubeletStart(o, d, clusterName, version, cp?.advertiseAddress ?? e.address);

  if (cp) {
    if (stacked) {
      await phaseFault('control-plane-join/etcd', () => phaseError('control-plane-join/etcd', ETCD_MEMBER_ADD_FAILED));
      const members = updateState(e.dir, (s) => {
        s.etcdMembers = s.etcdMembers.filter((m) => m.name !== o.nodeName);
        s.etcdMembers.push({
          id: newEtcdId(),
          name: o.nodeName,
          peerURL: `https://${cp.advertiseAddress}:2380`,
          clientURL: `https://${cp.advertiseAddress}:2379`,
        });
        return s.etcdMembers;
      });
      writeEtcdManifest(manifestContext(o.nodeName, cp, version, members));
      out(
        '[etcd] Announced new etcd member joining to the existing etcd cluster',
        '[etcd] Creating static Pod manifest for "etcd"',
      );
      fs.mkdirSync('/var/lib/etcd/member/wal', { recursive: true });
      fs.writeFileSync('/var/lib/etcd/member/wal/0000000000000000-0000000000000000.wal', crypto.randomBytes(64));
      out('[etcd] Waiting for the new etcd member to join the cluster. This can take up to 40s');
    }
    await startAndWait('apiserver', `https://${cp.advertiseAddress}:${cp.bindPort}`, d.caPem, 240e3);
    await api(d.server, d.caPem, 'PATCH', `/api/v1/nodes/${o.nodeName}`, { role: 'control-plane' }).catch(
      (err: ApiError) => {
        throw phaseError(
          'control-plane-join/mark-control-plane',
          `error applying control-plane label and taints: ${err.message}`,
        );
      },
    );
    out(...markControlPlane(e.minor, o.nodeName));
    kubernetesNetworkRan(o.nodeName);
    process.stdout.write(joinControlPlaneEpilogue(e.minor, stacked));
  } else {
    kubernetesNetworkRan(o.nodeName);
    process.stdout.write(joinWorkerEpilogue(e.minor));
  }
  if (!o.token) throw new ExitError('unreachable');
  return 0;
}

type ExternalEtcd = { endpoints?: string[]; caFile?: string; certFile?: string; keyFile?: string };

function manifestContext(
  nodeName: string,
  cp: NonNullable<JoinOptions['controlPlane']>,
  version: string,
  members: Array<{ name: string; peerURL: string }>,
  ext?: ExternalEtcd,
): ManifestContext {
  const all = [
    ...members.filter((m) => m.name !== nodeName),
    { name: nodeName, peerURL: `https://${cp.advertiseAddress}:2380` },
  ];
  return {
    nodeName,
    address: cp.advertiseAddress,
    bindPort: cp.bindPort,
    version,
    podSubnet: '',
    serviceSubnet: '10.96.0.0/12',
    initialCluster: all.map((m) => `${m.name}=${m.peerURL}`).join(','),
    initialClusterState: 'existing',
    externalEtcd: ext ? { ...ext, endpoints: (ext.endpoints ?? []).map(String) } : undefined,
  };
}

/**
 * The kubelet-start phase in kubeadm's order (cmd/kubeadm/app/cmd/phases/join/kubelet.go): write
 * bootstrap-kubelet.conf and the kubelet's files, start the kubelet, wait for its TLS bootstrap
 * (which writes kubelet.conf and registers the Node, without a role), annotate the CRI socket. The
 * bootstrap kubeconfig is removed when the phase returns, as kubeadm's deferred os.Remove does; a
 * killed join leaves it behind.
 */
async function kubeletStart(
  o: JoinOptions,
  d: { server: string; caPem: string },
  clusterName: string,
  version: string,
  nodeIP: string,
): Promise<void> {
  const e = hostEnv();
  const bootstrapConf = '/etc/kubernetes/bootstrap-kubelet.conf';
  writeKubeconfig(bootstrapConf, {
    clusterName,
    server: d.server,
    caPem: d.caPem,
    user: 'tls-bootstrap-token-user',
    token: o.tlsToken,
  });
  try {
    writeKubeletFiles(nodeIP);
    out('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"');
    out('[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"');
    out('[kubelet-start] Starting the kubelet');
    if (e.minor >= 26)
      out('[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s');
    const kt = await startAndWait('kubelet', `http://${e.address}:10250`, undefined, 240e3);
    if (e.minor >= 26) out(`[kubelet-check] The kubelet is healthy after ${fmtSeconds(kt)}`);
    out('[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap');
    // Real joins spend most of their time here (the fleet's timing.json says how long).
    await sleep(readTiming(e.dir).joinMs);
    const keyFile = '/var/lib/kubelet/pki/kubelet-client.key.tmp';
    const csr = await createCSR(keyFile, `/O=system:nodes/CN=system:node:${o.nodeName}`);
    const signed = await api(
      d.server,
      d.caPem,
      'POST',
      '/apis/certificates.k8s.io/v1/certificatesigningrequests',
      { csr },
      o.tlsToken,
    ).catch((err: ApiError) => {
      throw phaseError('kubelet-start', `error waiting for the kubelet to perform the TLS Bootstrap: ${err.message}`);
    });
    if (signed.status !== 201)
      throw phaseError('kubelet-start', 'a Node with name "' + o.nodeName + '" could not be created: Unauthorized');
    writeKubeletClient(signed.body.certificate, fs.readFileSync(keyFile, 'utf8'));
    fs.rmSync(keyFile, { force: true });
    writeKubeletConf(d.server, d.caPem, clusterName, o.nodeName);
    const reg = await api(d.server, d.caPem, 'POST', '/api/v1/nodes', {
      name: o.nodeName,
      address: nodeIP,
      version,
    }).catch((err: ApiError) => {
      throw phaseError('kubelet-start', `error waiting for the kubelet to perform the TLS Bootstrap: ${err.message}`);
    });
    if (reg.status !== 201)
      throw phaseError('kubelet-start', 'error waiting for the kubelet to perform the TLS Bootstrap');
    await phaseFault('kubelet-start', () => phaseError('kubelet-start', CRISOCKET_TIMEOUT));
  } finally {
    fs.rmSync(bootstrapConf, { force: true });
  }
}
