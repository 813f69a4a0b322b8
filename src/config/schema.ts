// The cluster file, described once. From this schema come the TypeScript types (./types), the
// field-by-field checks with their messages (./cluster-file), and schema/cluster.schema.json for
// editors (./json-schema). Every mapping is strict: an unknown key is an error, never ignored.
// Checks that need several fields or the disk (overlapping ranges, duplicate hosts, key files) are
// in ./cluster-file; this file and its parts (./schema-parts: bounds, value types, hosts, ssh, etcd) hold what one field can say about itself.
import { z } from 'zod';
import { configFieldArrival, SUPPORTED_RANGE, supportedVersionProblem } from '../kubeadm/version';
import { didYouMean, show } from './text';
import {
  addressProblem,
  cidrListProblem,
  clusterNameProblem,
  hostPathProblem,
  preflightCheckProblem,
  taskQueueProblem,
} from './value-problems';
import { CERTIFICATE_MODES, GATED_PHASES, TOPOLOGIES, UPGRADE_PACKAGE_MANAGERS } from './enums';
import {
  builtEtcdSchema,
  existingEtcdSchema,
  LIMITS,
  path,
  port,
  removableHostList,
  sshSchema,
  text,
} from './schema-parts';

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
