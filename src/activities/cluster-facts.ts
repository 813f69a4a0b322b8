// The cluster's own view, read from a control plane's host for the decisions that matter most:
// whether a node is joined, half-done or unknown. Every way to a fact is tried before it is called
// unknown, and each failure is kept: the Nodes through the load balancer, then from each control
// plane's own API server (a load balancer that is down is told apart from a control plane that is
// gone); the etcd members through each member's JSON gateway, then `kubectl exec` into its etcd pod.
import type { HostSpec } from '../config/types';
import {
  etcdctlCommand,
  etcdGatewayCommand,
  type EtcdMember,
  parseGatewayMembers,
  parseMemberList,
} from '../kubeadm/etcd';
import { parseGetNodes, type NodeRow } from '../kubeadm/kubectl';
import type { UnknownFact } from '../kubeadm/node-state';
import { KUBECTL } from '../kubeadm/paths';
import { type Remote, tail } from './host-context';

type Endpoint = Pick<HostSpec, 'name' | 'address'>;
export type Reading<T> = ({ via: string } & T) | { unknown: UnknownFact };

const REQUEST_TIMEOUT = '--request-timeout=10s';

interface Try {
  command: string;
  label: string;
}

/** The control planes, the one `remote` is on first (its own API server and etcd are the nearest). */
const ownFirst = (remote: Remote, cps: Endpoint[]): Endpoint[] =>
  [...cps].sort((a, b) => Number(b.name === remote.host.name) - Number(a.name === remote.host.name));

/** Runs the tries in order until `parse` accepts one; else the fact is unknown, with every failure. */
async function firstAnswer<T>(
  remote: Remote,
  fact: string,
  tries: Try[],
  parse: (stdout: string) => T,
): Promise<Reading<{ value: T; failed: string[] }>> {
  const failed: string[] = [];
  let first: { exitCode: number | null } | undefined;
  for (const t of tries) {
    const r = await remote.run(t.command);
    first ??= r;
    if (r.exitCode === 0) {
      try {
        return { via: t.label, value: parse(r.stdout), failed };
      } catch (err) {
        failed.push(`${t.label}: ${(err as Error).message}`);
        continue;
      }
    }
    failed.push(`${t.label}: exit ${r.exitCode ?? 'unknown'}: ${tail(r.stderr || r.stdout, 200)}`);
  }
  return { unknown: { fact, command: tries[0].command, exitCode: first?.exitCode ?? null, error: failed.join('; ') } };
}

/** `kubectl get nodes` through admin.conf's server (the load balancer), then each control plane's API server directly. */
export async function readNodes(remote: Remote, controlPlanes: Endpoint[]): Promise<Reading<{ nodes: NodeRow[] }>> {
  const own = ownFirst(remote, controlPlanes);
  const server = (a: string) => `https://${a.includes(':') ? `[${a}]` : a}:6443`;
  const r = await firstAnswer(
    remote,
    "the cluster's Nodes",
    [
      { command: `${KUBECTL} get nodes ${REQUEST_TIMEOUT}`, label: 'through the load balancer' },
      ...own.map((cp) => ({
        command: `${KUBECTL} --server=${server(cp.address)} get nodes ${REQUEST_TIMEOUT}`,
        label: `${cp.name}'s API server ${server(cp.address)}`,
      })),
    ],
    parseGetNodes,
  );
  if ('unknown' in r) return r;
  return { via: r.failed.length ? `${r.via} (${r.failed.join('; ')})` : r.via, nodes: r.value };
}

/** The stacked etcd members, read from `remote`'s host: each member's gateway, then etcdctl in each etcd pod. */
export async function readEtcdMembers(
  remote: Remote,
  controlPlanes: Endpoint[],
): Promise<Reading<{ members: EtcdMember[] }>> {
  const own = ownFirst(remote, controlPlanes);
  const r = await firstAnswer<EtcdMember[]>(
    remote,
    'the etcd member list',
    [
      ...own.map((cp) => ({
        command: etcdGatewayCommand(cp.address, { list: true }),
        label: `etcd gateway on ${cp.name}`,
      })),
      ...own.map((cp) => ({
        command: etcdctlCommand(KUBECTL, cp.name, ['member', 'list']),
        label: `kubectl exec etcd-${cp.name}`,
      })),
    ],
    (out) => {
      // The gateway answers JSON; etcdctl the simple format.
      if (out.trimStart().startsWith('{')) return parseGatewayMembers(out);
      const members = parseMemberList(out);
      if (members.length === 0) throw new Error(`no members in: ${out.trim().slice(0, 120)}`);
      return members;
    },
  );
  return 'unknown' in r ? r : { via: r.via, members: r.value };
}

/** Removes a member through the gateway of `remote`'s own etcd, else etcdctl in its etcd pod; throws when both fail. */
export async function removeEtcdMember(remote: Remote, id: string): Promise<string> {
  const r = await firstAnswer(
    remote,
    `the removal of etcd member ${id}`,
    [
      {
        command: etcdGatewayCommand(remote.host.address, { remove: id }),
        label: `etcd gateway on ${remote.host.name}`,
      },
      {
        command: etcdctlCommand(KUBECTL, remote.host.name, ['member', 'remove', id]),
        label: `kubectl exec etcd-${remote.host.name}`,
      },
    ],
    (out) => (out.trimStart().startsWith('{') ? parseGatewayMembers(out) : out),
  );
  if ('unknown' in r)
    throw new Error(`etcd member ${id} could not be removed through ${remote.host.name}: ${r.unknown.error}`);
  return r.via;
}
