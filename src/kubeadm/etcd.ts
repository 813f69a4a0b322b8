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

/** curl to etcd's JSON gateway on `address` (`member/list`, or `member/remove` with a hex member ID). */
export function etcdGatewayCommand(address: string, call: { list: true } | { remove: string }): string {
  const [path, body] =
    'remove' in call
      ? ['member/remove', JSON.stringify({ ID: BigInt(`0x${call.remove}`).toString() })]
      : ['member/list', '{}'];
  return [
    'curl -sS --max-time 5 -X POST',
    `--cacert ${ETCD_CA}`,
    `--cert ${HEALTHCHECK_CLIENT_CERT}`,
    `--key ${HEALTHCHECK_CLIENT_KEY}`,
    `-d ${shellQuote(body)}`,
    shellQuote(`${memberClientURL(address)}/v3/cluster/${path}`),
  ].join(' ');
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
