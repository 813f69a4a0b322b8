// The cluster file's parts (./schema puts them together): the bounds on its size, the value types its
// fields share, and the hosts, the SSH settings and the etcd sections.
import { z } from 'zod';
import { isIP, nodeNameProblem } from '../kubeadm/validate';
import { hostIpProblem, isLoopback, parseIp } from './net';
import { show } from './text';
import { addressProblem, endpointProblem, taskQueueProblem, type Problem, userProblem } from './value-problems';
import { HOST_KEY_POLICIES } from './enums';

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
export function text(problem?: Problem) {
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
export const port = () =>
  z
    .number({ error: portError })
    .int({ error: portError })
    .min(1, { error: portError })
    .max(65535, { error: portError });

export const path = (what: string) =>
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

export const hostList = (advertises: string | undefined, max: number) => z.array(hostSchema(advertises)).max(max);
export const removableHostList = (advertises: string | undefined, max: number) =>
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

export const sshSchema = z.strictObject({
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
