// `kubectl exec etcd-<node> -- etcdctl ... member list|remove`, served by the API server stand-in on
// the cluster state's etcd members. Output as etcdctl v3 prints it (etcdctl/ctlv3/command/
// printer_simple.go, printer_json.go, member_command.go); the exec plumbing's failures as kubectl's.
// The member messages and MemberRemove are shared with the API server stand-in's etcd JSON gateway.
import * as path from 'node:path';
import { runDir } from '../layout';
import { alive, readPid } from '../proc';
import { stoppedComponents } from '../faultfile';
import { ClusterState, EtcdMember, readState, updateState } from './state';
import { PodView } from './views';

export type ExecResult = { stdout: string; stderr: string; exitCode: number } | { error: string };

// etcdctl's exit codes (etcdctl/ctlv3/command/error.go via cobrautl).
const EXIT_ERROR = 1;
const EXIT_BAD_ARGS = 128;
const failed = (exitCode: number, msg: string): ExecResult => ({ stdout: '', stderr: `Error: ${msg}\n`, exitCode });

/** etcdserverpb's uint64s: hex in the simple printer, decimal in JSON. */
const dec = (hex: string): string => BigInt(`0x${hex}`).toString();

export interface MembersResponse {
  header: { cluster_id: string; member_id: string; raft_term: string };
  members: Array<{ ID: string; name: string; peerURLs: string[]; clientURLs: string[] }>;
}

/**
 * MemberListResponse / MemberRemoveResponse as the v3 JSON gateway answers them (protobuf's JSON
 * mapping: uint64s as decimal strings; api/etcdserverpb/gw/rpc.pb.gw.go); member_id is the answering
 * member (`node`'s own, else the first).
 */
export function membersResponse(s: ClusterState, node: string, members: EtcdMember[] = s.etcdMembers): MembersResponse {
  const self = s.etcdMembers.find((m) => m.name === node)?.id ?? s.etcdMembers[0]?.id ?? s.etcdClusterId;
  return {
    header: { cluster_id: dec(s.etcdClusterId), member_id: dec(self), raft_term: '2' },
    members: members.map((m) => ({ ID: dec(m.id), name: m.name, peerURLs: [m.peerURL], clientURLs: [m.clientURL] })),
  };
}

/** etcdctl's JSON printer marshals the Go structs with encoding/json: the same, uint64s as numbers. */
const printJSON = (r: MembersResponse): string =>
  `${JSON.stringify(r).replace(/"(ID|cluster_id|member_id|raft_term)":"(\d+)"/g, '"$1":$2')}\n`;

/** MemberRemove on the cluster state; undefined when no member has that ID ("etcdserver: member not found"). */
export function removeMember(dir: string, id: bigint): EtcdMember | undefined {
  return updateState(dir, (st) => {
    const m = st.etcdMembers.find((x) => BigInt(`0x${x.id}`) === id);
    st.etcdMembers = st.etcdMembers.filter((x) => x !== m);
    return m;
  });
}

/** Whether `node`'s etcd "container" runs: not when its static pods are down (reset) or a fault stopped etcd. */
export function etcdRunning(dir: string, node: string): boolean {
  return (
    alive(readPid(path.join(runDir(dir, node), 'apiserver.pid'))) && !stoppedComponents(dir, node).includes('etcd')
  );
}

/** etcdctl's global flags this procedure uses; values are accepted as given (the pod has the certs). */
function parse(argv: string[]): { args: string[]; output: string } | string {
  const args: string[] = [];
  let output = 'simple';
  const valued = [
    '--endpoints',
    '--cacert',
    '--cert',
    '--key',
    '--write-out',
    '-w',
    '--command-timeout',
    '--dial-timeout',
  ];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (valued.includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined) return `flag needs an argument: ${name}`;
      if (name === '-w' || name === '--write-out') output = v;
    } else if (a.startsWith('-')) return `unknown flag: ${name}`;
    else args.push(a);
  }
  return { args, output };
}

export function exec(dir: string, pod: PodView, command: string[]): ExecResult {
  if (!pod.name.startsWith('etcd-') || command[0] !== 'etcdctl') {
    return {
      error: `the fleet's exec stand-in only runs etcdctl in etcd pods, not "${command.join(' ')}" in ${pod.name}`,
    };
  }
  if (!etcdRunning(dir, pod.node)) return { error: 'unable to upgrade connection: container not found ("etcd")' };
  const p = parse(command.slice(1));
  if (typeof p === 'string') return failed(EXIT_BAD_ARGS, p);
  if (p.output !== 'simple' && p.output !== 'json') return failed(EXIT_BAD_ARGS, `unknown output format "${p.output}"`);
  const [group, verb, id] = p.args;
  if (group !== 'member' || (verb !== 'list' && verb !== 'remove'))
    return failed(EXIT_BAD_ARGS, `the fleet's etcdctl stand-in does not support "${p.args.join(' ')}"`);
  const s = readState(dir);
  if (verb === 'list') {
    if (p.output === 'json') return { stdout: printJSON(membersResponse(s, pod.node)), stderr: '', exitCode: 0 };
    const lines = s.etcdMembers.map((m) => `${m.id}, started, ${m.name}, ${m.peerURL}, ${m.clientURL}, false\n`);
    return { stdout: lines.join(''), stderr: '', exitCode: 0 };
  }
  if (id === undefined) return failed(EXIT_BAD_ARGS, 'member ID is not provided');
  if (!/^[0-9a-fA-F]{1,16}$/.test(id))
    return failed(
      EXIT_BAD_ARGS,
      `bad member ID arg (strconv.ParseUint: parsing "${id}": invalid syntax), expecting ID in Hex`,
    );
  const removed = removeMember(dir, BigInt(`0x${id}`));
  if (!removed) return failed(EXIT_ERROR, 'etcdserver: member not found');
  if (p.output === 'json')
    return {
      stdout: printJSON(
        membersResponse(
          s,
          pod.node,
          s.etcdMembers.filter((m) => m.id !== removed.id),
        ),
      ),
      stderr: '',
      exitCode: 0,
    };
  return { stdout: `Member ${removed.id} removed from cluster ${s.etcdClusterId}\n`, stderr: '', exitCode: 0 };
}
