// The cluster file, described once. From this schema come the TypeScript types (./types), the
// field-by-field checks with their messages (./cluster-file), and schema/cluster.schema.json for
// editors (./json-schema). Every mapping is strict: an unknown key is an error, never ignored.
// Checks that need several fields or the disk (overlapping ranges, duplicate hosts, key files) are
// in ./cluster-file; this file holds what one field can say about itself.
import { z } from 'zod';
import { isIP, nodeNameProblem } from '../kubeadm/validate';
import { configFieldArrival, SUPPORTED_RANGE, supportedVersionProblem } from '../kubeadm/version';
import { hostIpProblem, isLoopback, parseIp } from './net';
import { didYouMean, show } from './text';
import {
  addressProblem,
  cidrListProblem,
  clusterNameProblem,
  endpointProblem,
  hostPathProblem,
  preflightCheckProblem,
  taskQueueProblem,
  type Problem,
  userProblem,
} from './value-problems';
import { CERTIFICATE_MODES, GATED_PHASES, HOST_KEY_POLICIES, TOPOLOGIES, UPGRADE_PACKAGE_MANAGERS } from './enums';

/** Bounds on what a cluster file may hold, so hostile or runaway input costs little to refuse. */
export const LIMITS = {
  /**
   * Bytes; checked before the file is parsed. A file of `workers` workers, each with a 253-character
   * DNS name, an address and a port (about 300 bytes in YAML), fits, with room for the rest.
   */
  fileBytes: 2 * 1024 * 1024,
  /** Problems listed; the rest are counted ("and N more"). */
  problems: 50,
  controlPlanes: 100,
  /**
   * Kubernetes supports clusters of at most 5,000 nodes ("Considerations for large clusters",
   * kubernetes.io/docs/setup/best-practices/cluster-large/): a file may ask for no more. A run joins
   * workers beyond a wave's 500 in child workflows (src/workflows/build/waves.ts), so no history
   * grows with the fleet.
   */
  workers: 5000,
  etcdHosts: 100,
  endpoints: 100,
  approvals: 16,
  /** Characters in any one string (paths, names, addresses). */
  string: 4096,
  /** Bytes read from a key, certificate or known_hosts file for checking. */
  keyFileBytes: 1024 * 1024,
} as const;

/** A non-empty string, checked by `problem` (which returns the message after "field: "). */
function text(problem?: Problem) {
  const s = z.string().min(1).max(LIMITS.string);
  return problem
    ? s.superRefine((v, ctx) => {
        const p = v === '' ? undefined : problem(v);
        if (p) ctx.addIssue({ code: 'custom', message: p, input: v });
      })
    : s;
}

const portError = (iss: { input?: unknown }) =>
  iss.input === undefined ? undefined : `${show(iss.input)} is not a TCP port; use a whole number from 1 to 65535`;
const port = () =>
  z
    .number({ error: portError })
    .int({ error: portError })
    .min(1, { error: portError })
    .max(65535, { error: portError });

const path = (what: string) =>
  text().describe(
    `${what}: a path on the worker's machine, relative to the cluster file's folder; ~/ is the home folder`,
  );

const isLoopbackText = (a: string) => {
  const ip = parseIp(a);
  return ip !== undefined && isLoopback(ip);
};

/**
 * A host; `advertises` names what kubeadm advertises on its address, which must then be an IP and
 * not loopback. A worker's address is only where SSH reaches it, so a loopback one (a port forward
 * or tunnel, `ssh -L 2201:w1:22`) is allowed.
 */
const hostFields = (advertises?: string) => ({
  name: text(nodeNameProblem).describe(
    'Node name in Kubernetes (lower-case RFC 1123 subdomain); unique within the file',
  ),
  address: text(
    (a) =>
      addressProblem(a) ??
      (hostIpProblem(a) ? `${show(a)} ${hostIpProblem(a)}` : undefined) ??
      (advertises && !isIP(a)
        ? `${show(a)} must be an IP address: kubeadm advertises ${advertises} on it`
        : undefined) ??
      (advertises && isLoopbackText(a)
        ? `${show(a)} is a loopback address: kubeadm would advertise ${advertises} on it, which no other node can reach; give the host's address on the cluster network`
        : undefined),
  ).describe(
    advertises
      ? `IP address the worker connects to over SSH; kubeadm advertises ${advertises} on it`
      : 'IP address or DNS name the worker connects to over SSH',
  ),
  port: port().optional().describe('SSH port; default ssh.port'),
  taskQueue: text(taskQueueProblem)
    .optional()
    .describe(
      "Task queue of the workers that can reach this host (its network zone): only they run its steps; default the file's taskQueue",
    ),
});

export const hostSchema = (advertises?: string) => z.strictObject(hostFields(advertises));

/** A control plane or worker, which the file can mark for removal from the cluster. */
export const removableHostSchema = (advertises?: string) =>
  z.strictObject({
    ...hostFields(advertises),
    remove: z
      .literal(true, { error: 'takes only true: leave it out to keep the host' })
      .optional()
      .describe(
        'true: take this host out of the cluster in the next run (drain, kubeadm reset, delete its Node; a control plane also leaves etcd). See docs/operations.md',
      ),
  });

const hostList = (advertises: string | undefined, max: number) => z.array(hostSchema(advertises)).max(max);
const removableHostList = (advertises: string | undefined, max: number) =>
  z.array(removableHostSchema(advertises)).max(max);

export const builtEtcdSchema = z
  .strictObject({
    hosts: hostList('the etcd member', LIMITS.etcdHosts)
      .min(1)
      .describe(
        'Hosts kubeadm-ha builds etcd on: an odd count (1, 3, 5 or 7); each needs kubeadm, a kubelet and etcdctl',
      ),
  })
  .describe('An external etcd cluster that kubeadm-ha builds');

export const existingEtcdSchema = z
  .strictObject({
    endpoints: z
      .array(text(endpointProblem))
      .min(1, { error: 'give the etcd client URLs, e.g. [https://10.0.2.1:2379]' })
      .max(LIMITS.endpoints)
      .describe('https:// client URLs of the etcd members'),
    caFile: path('The etcd CA certificate (PEM)'),
    certFile: path('A client certificate the API servers use (PEM)'),
    keyFile: path('Its private key (PEM, unencrypted, chmod 600)'),
  })
  .describe('An etcd cluster that already runs');

const sshSchema = z.strictObject({
  user: text(userProblem).describe('root, or a user with passwordless sudo'),
  privateKeyFile: path('The SSH private key (unencrypted, chmod 600)'),
  knownHostsFile: path('The known_hosts file hosts are checked against').default('~/.ssh/known_hosts'),
  port: port().default(22).describe('SSH port; a host may override it'),
  hostKeyPolicy: z
    .enum(HOST_KEY_POLICIES)
    .default('strict')
    .describe(
      "strict: a host must be in knownHostsFile. accept-new: an unknown host's key is recorded there on first use (OpenSSH StrictHostKeyChecking=accept-new). A changed key is always refused.",
    ),
  jumpHost: z
    .strictObject({
      address: text(addressProblem).describe('IP address or DNS name of the bastion'),
      port: port().default(22).describe('SSH port of the bastion'),
      user: text(userProblem).optional().describe('User on the bastion; default ssh.user'),
    })
    .optional()
    .describe('A bastion the worker reaches the hosts through (OpenSSH ProxyJump); its key is checked the same way'),
  forwardAgent: z
    .boolean()
    .default(false)
    .describe("Forward the worker's ssh-agent (SSH_AUTH_SOCK) to the hosts, as the kubeadm page's `ssh -A` does"),
});

/** A component config kubeadm takes beside its own documents: its fields only, apiVersion and kind are ours. */
const componentConfig = (kind: string, apiVersion: string, example: string) =>
  z
    .record(z.string().max(64), z.unknown())
    .superRefine((m, ctx) => {
      for (const k of Object.keys(m)) {
        if (k === 'apiVersion' || k === 'kind')
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message: `is set by kubeadm-ha (${apiVersion} ${kind}); give only its fields`,
          });
        else if (!/^[a-z][A-Za-z0-9]*$/.test(k))
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message: `is not a ${kind} field name (camelCase, e.g. ${example})`,
          });
      }
    })
    .optional();

/** "1.22+": the releases whose kubeadm config has the field (kubeadm/version.ts owns which). */
const since = (field: Parameters<typeof configFieldArrival>[0]) => `${configFieldArrival(field).release}+`;

const near = (input: unknown, values: readonly string[]) => {
  const hit = typeof input === 'string' ? didYouMean(input, values) : undefined;
  return hit ? `; did you mean ${hit}?` : '';
};
const concurrencyError = (iss: { input?: unknown }) =>
  iss.input === undefined ? undefined : `${show(iss.input)} must be a whole number from 1 to 500`;

export const clusterFileSchema = z
  .strictObject({
    name: text(clusterNameProblem).describe(
      "Cluster name: lower-case letters, digits and '-'; the run's workflow ID is kubeadm-ha-<name>",
    ),
    kubernetesVersion: text((v) => supportedVersionProblem(v)).describe(
      `e.g. v1.31.4 (${SUPPORTED_RANGE}); kubeadm on every host must have the same minor version`,
    ),
    topology: z
      .enum(TOPOLOGIES)
      .default('stacked')
      .describe('stacked: etcd on the control planes. external: etcd on its own hosts (etcd section)'),
    etcd: z
      .union([builtEtcdSchema, existingEtcdSchema])
      .optional()
      .describe('Only with topology external: hosts to build etcd on, or an existing cluster'),
    certificates: z
      .enum(CERTIFICATE_MODES, {
        error: (iss) =>
          iss.input === undefined
            ? undefined
            : `${show(iss.input)} is unknown; use copy (the page's manual copy) or upload (kubeadm init --upload-certs)${near(iss.input, CERTIFICATE_MODES)}`,
      })
      .default('copy')
      .describe(`copy: the page's manual copy. upload: kubeadm init --upload-certs (${since('certificateKey')})`),
    loadBalancer: z
      .strictObject({
        host: text(addressProblem).describe('DNS name (recommended) or IP of the API server load balancer'),
        port: port().default(6443).describe('Load balancer port'),
      })
      .describe('Becomes controlPlaneEndpoint and a certificate SAN'),
    networking: z.strictObject({
      podSubnet: text(cidrListProblem('pod')).describe(
        'networking.podSubnet; must match the CNI. Dual-stack: "v4/len,v6/len"',
      ),
      serviceSubnet: text(cidrListProblem('service'))
        .optional()
        .describe("networking.serviceSubnet; kubeadm's default 10.96.0.0/12"),
    }),
    kubeletConfiguration: componentConfig(
      'KubeletConfiguration',
      'kubelet.config.k8s.io/v1beta1',
      'cgroupDriver',
    ).describe(
      "Fields of the KubeletConfiguration every node runs with (kubelet.config.k8s.io/v1beta1): the kubeadm config's KubeletConfiguration, and the etcd hosts' static-pod kubelet; e.g. { cgroupDriver: cgroupfs }",
    ),
    kubeProxyConfiguration: componentConfig(
      'KubeProxyConfiguration',
      'kubeproxy.config.k8s.io/v1alpha1',
      'mode',
    ).describe(
      "Fields of the cluster's KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1), e.g. { mode: nftables }",
    ),
    kubeadm: z
      .strictObject({
        ignorePreflightErrors: z
          .array(text(preflightCheckProblem))
          .max(64)
          .default([])
          .describe(
            'Preflight checks kubeadm init and join skip on every node (nodeRegistration.ignorePreflightErrors, ' +
              `${since('nodeRegistration.ignorePreflightErrors')}); each by name, never all`,
          ),
        patches: text(hostPathProblem)
          .optional()
          .describe(
            'A directory on every node whose kubeadm patches init and join apply ' +
              `(patches.directory, ${since('patches.directory')}), e.g. kubeletconfiguration+strategic.yaml`,
          ),
      })
      .default({ ignorePreflightErrors: [] })
      .describe('Options kubeadm itself takes on each node'),
    cni: z.strictObject({ manifest: path('CNI manifest applied with kubectl after init') }),
    ssh: sshSchema,
    controlPlanes: removableHostList('the API server', LIMITS.controlPlanes)
      .min(1)
      .describe('The first runs kubeadm init; addresses must be IPs; 3 (or 5) for etcd quorum when stacked'),
    workers: removableHostList(undefined, LIMITS.workers).default([]),
    approvals: z
      .array(
        z.enum(GATED_PHASES, {
          error: (iss) =>
            iss.input === undefined
              ? undefined
              : `${show(iss.input)} is not a phase that can wait for approval; use ${GATED_PHASES.join(', ')}${near(iss.input, GATED_PHASES)}`,
        }),
      )
      .max(LIMITS.approvals)
      .default([...GATED_PHASES])
      .describe('Phases that wait for an operator; [] for none (default: all)'),
    upgrade: z
      .strictObject({
        binaries: path(
          'A folder with <version>/kubeadm, kubelet and kubectl, each with its .sha256 beside it as dl.k8s.io publishes them; the worker copies them to /usr/bin on each node',
        ).optional(),
        packages: z
          .enum(UPGRADE_PACKAGE_MANAGERS)
          .optional()
          .describe(
            "apt: the nodes' configured Kubernetes package repository (apt-mark unhold, install the exact version, hold again)",
          ),
        through: z
          .array(text(supportedVersionProblem))
          .max(24)
          .default([])
          .describe(
            "The release of each minor between the cluster's and kubernetesVersion, e.g. [v1.36.3]: an upgrade goes one minor at a time",
          ),
        workerBatch: z
          .union([
            z.number().int().min(1).max(LIMITS.workers),
            z
              .string()
              .regex(/^(100|[1-9][0-9]?)%$/, { error: 'must be a whole number, or a percentage from 1% to 100%' }),
          ])
          .default(1)
          .describe('Workers upgraded at once: a count, or a percentage of the workers (default 1)'),
      })
      .optional()
      .describe('How `kubeadm-ha upgrade` brings the new kubeadm, kubelet and kubectl to the nodes'),
    taskQueue: text(taskQueueProblem)
      .optional()
      .describe(
        'Task queue of the hosts that name none (default kubeadm-ha, where the runs themselves go): start a worker with --task-queue NAME on a machine that reaches them',
      ),
    workerConcurrency: z
      .number({ error: concurrencyError })
      .int({ error: concurrencyError })
      .min(1, { error: concurrencyError })
      .max(500, { error: concurrencyError })
      .default(10)
      .describe('Most workers joining at once (1-500)'),
  })
  .describe('A kubeadm-ha cluster file: an HA Kubernetes cluster built with kubeadm');
