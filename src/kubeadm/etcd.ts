// Stacked etcd membership. First from the control plane's own host: curl to a member's client URL
// through etcd's JSON gateway (POST /v3/cluster/member/list|remove, etcd
// api/etcdserverpb/gw/rpc.pb.gw.go), with the healthcheck-client certificate kubeadm creates. This
// needs neither the API server nor `kubectl exec`, which a firewall on port 10250, RBAC, admission or a
// restarting etcd pod can refuse. Then, as a fallback, the way operators do it on a kubeadm cluster:
// etcdctl inside a control plane's etcd static pod (kubeadm docs, "Operating etcd clusters for
// Kubernetes": member list / member remove).
import { shellQuote } from '../common/shell-quote';

export interface EtcdMember {
  /** 16-hex member ID, as etcdctl's simple output prints it. */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  started: boolean;
  learner: boolean;
}

export const ETCD_CA = '/etc/kubernetes/pki/etcd/ca.crt';
export const HEALTHCHECK_CLIENT_CERT = '/etc/kubernetes/pki/etcd/healthcheck-client.crt';
export const HEALTHCHECK_CLIENT_KEY = '/etc/kubernetes/pki/etcd/healthcheck-client.key';

/** A stacked member's client URL: kubeadm's etcd listens on the node's advertise address too (cmd/kubeadm/app/phases/etcd/local.go). */
export function memberClientURL(address: string): string {
  return `https://${address.includes(':') ? `[${address}]` : address}:2379`;
}

/**
 * curl to etcd's JSON gateway on `address`: `member/list`, `member/remove` (hex member ID), the
 * member's `status` (its leader), `transfer` of the leadership to a hex member ID (sent to the
 * leader, as etcdctl move-leader does), or its `/health` (etcd's HTTP health endpoint).
 */
export function etcdGatewayCommand(
  address: string,
  call: { list: true } | { remove: string } | { status: true } | { transfer: string } | { health: true },
): string {
  const decimal = (hex: string) => BigInt(`0x${hex}`).toString();
  const [path, body] =
    'remove' in call
      ? ['v3/cluster/member/remove', JSON.stringify({ ID: decimal(call.remove) })]
      : 'status' in call
        ? ['v3/maintenance/status', '{}']
        : 'transfer' in call
          ? ['v3/maintenance/transfer-leadership', JSON.stringify({ targetID: decimal(call.transfer) })]
          : 'health' in call
            ? ['health', undefined]
            : ['v3/cluster/member/list', '{}'];
  return [
    `curl -sS --max-time 5${body === undefined ? '' : ' -X POST'}`,
    `--cacert ${ETCD_CA}`,
    `--cert ${HEALTHCHECK_CLIENT_CERT}`,
    `--key ${HEALTHCHECK_CLIENT_KEY}`,
    ...(body === undefined ? [] : [`-d ${shellQuote(body)}`]),
    shellQuote(`${memberClientURL(address)}/${path}`),
  ].join(' ');
}

/** The leader's hex member ID from a gateway `status` answer (uint64 as a decimal string). */
export function parseGatewayLeader(stdout: string): string {
  let body: { leader?: unknown; message?: unknown; error?: unknown };
  try {
    body = JSON.parse(stdout);
  } catch {
    throw new Error(`not an etcd status answer: ${(stdout ?? '').trim().slice(0, 120) || '(empty)'}`);
  }
  if (typeof body?.leader !== 'string' || !/^\d+$/.test(body.leader))
    throw new Error(String(body?.message ?? body?.error ?? `no leader in ${stdout.trim().slice(0, 120)}`));
  return BigInt(body.leader).toString(16);
}

/** etcd's /health answer: {"health":"true"} when the member is healthy (etcdserver/api/etcdhttp/health.go). */
export const parseGatewayHealth = (stdout: string): boolean => {
  try {
    return (JSON.parse(stdout) as { health?: unknown }).health === 'true';
  } catch {
    return false;
  }
};

/** A majority of the members that remain after removing one (etcd FAQ, "What is failure tolerance?"). */
export const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

/**
 * Why removing `target` would cost the etcd cluster its quorum, or undefined when it is safe: the
 * members that stay and are healthy must be a majority of the members that stay (Cluster API's
 * KubeadmControlPlane checks the same before it removes a machine, controlplane/kubeadm scale.go).
 */
export function removalQuorumProblem(
  members: EtcdMember[],
  healthy: ReadonlySet<string>,
  target: string,
): string | undefined {
  const staying = members.filter((m) => m.id !== target);
  if (staying.length === 0) return 'it is the only etcd member: removing it would leave no etcd cluster';
  const healthyStaying = staying.filter((m) => healthy.has(m.id));
  const need = quorumOf(staying.length);
  if (healthyStaying.length >= need) return undefined;
  const sick = staying.filter((m) => !healthy.has(m.id)).map((m) => m.name || m.id);
  return (
    `removing it would leave ${staying.length} members of which only ${healthyStaying.length} are healthy, ` +
    `below the quorum of ${need} (unhealthy: ${sick.join(', ')}); bring those members back first`
  );
}

/**
 * The gateway's answer: uint64 IDs as decimal strings, fields left out when empty (an unstarted
 * member has no name and no client URLs). An error answer ({"error"|"message", "code"}) or anything
 * that is not JSON throws with its text.
 */
export function parseGatewayMembers(stdout: string): EtcdMember[] {
  let body: { members?: unknown; message?: unknown; error?: unknown };
  try {
    body = JSON.parse(stdout);
  } catch {
    throw new Error(`not an etcd gateway answer: ${(stdout ?? '').trim().slice(0, 120) || '(empty)'}`);
  }
  if (!Array.isArray(body?.members))
    throw new Error(String(body?.message ?? body?.error ?? `no member list in ${stdout.trim().slice(0, 120)}`));
  return (
    body.members as { ID?: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean }[]
  ).map((m) => ({
    id: BigInt(m.ID ?? '0').toString(16),
    name: m.name ?? '',
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
    // etcdctl prints "started" for a member that has a name (etcdctl/ctlv3/command/printer.go).
    started: !!m.name,
    learner: !!m.isLearner,
  }));
}

const ETCDCTL_TLS = [
  '--endpoints=https://127.0.0.1:2379',
  `--cacert=${ETCD_CA}`,
  `--cert=${HEALTHCHECK_CLIENT_CERT}`,
  `--key=${HEALTHCHECK_CLIENT_KEY}`,
];

/** `kubectl exec` into etcd-<node> to run etcdctl there; `kubectl` is the caller's kubectl with its kubeconfig. */
export function etcdctlCommand(kubectl: string, podNode: string, args: string[]): string {
  return `${kubectl} -n kube-system exec ${shellQuote(`etcd-${podNode}`)} -- etcdctl ${ETCDCTL_TLS.join(' ')} ${args.map(shellQuote).join(' ')}`;
}

/**
 * etcdctl `member list` simple format: "ID, STATUS, NAME, PEER ADDRS, CLIENT ADDRS, IS LEARNER",
 * one member per line; an unstarted member has an empty name and no client URLs.
 */
export function parseMemberList(stdout: string): EtcdMember[] {
  const members: EtcdMember[] = [];
  for (const line of (stdout ?? '').split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < 5 || !/^[0-9a-f]{1,16}$/.test(cells[0])) continue;
    const urls = (s: string) => s.split(/\s+/).filter((u) => /^https?:\/\//.test(u));
    members.push({
      id: cells[0],
      started: cells[1] === 'started',
      name: cells[2],
      peerURLs: urls(cells[3]),
      clientURLs: urls(cells[4]),
      learner: cells[5] === 'true',
    });
  }
  return members;
}

/** The member that belongs to a node: by name, or by its peer address (a member added but never started has no name). */
export function memberOf(members: EtcdMember[], node: { name: string; address: string }): EtcdMember | undefined {
  const host = node.address.includes(':') ? `[${node.address}]` : node.address;
  return (
    members.find((m) => m.name === node.name) ??
    members.find((m) => m.peerURLs.some((u) => u.startsWith(`https://${host}:`)))
  );
}
