// `kubectl exec etcd-<node> -- etcdctl ... member list|remove`, served by the API server stand-in on
// the cluster state's etcd members. Output as etcdctl v3 prints it (etcdctl/ctlv3/command/
// printer_simple.go, printer_json.go, member_command.go); the exec plumbing's failures as kubectl's.
import * as path from 'node:path';
import { runDir } from '../layout';
import { alive, readPid } from '../proc';
import { EtcdMember, readState, updateState } from './state';
import { PodView } from './views';

export type ExecResult = { stdout: string; stderr: string; exitCode: number } | { error: string };

// etcdctl's exit codes (etcdctl/ctlv3/command/error.go via cobrautl).
const EXIT_ERROR = 1;
const EXIT_BAD_ARGS = 128;
const failed = (exitCode: number, msg: string): ExecResult => ({ stdout: '', stderr: `Error: ${msg}\n`, exitCode });

/** uint64 IDs are printed in hex by the simple printer and as decimal numbers in JSON. */
const dec = (hex: string): string => BigInt(`0x${hex}`).toString();

function memberJSON(m: EtcdMember): string {
  return `{"ID":${dec(m.id)},"name":${JSON.stringify(m.name)},"peerURLs":[${JSON.stringify(m.peerURL)}],"clientURLs":[${JSON.stringify(m.clientURL)}]}`;
}

function header(clusterId: string, memberId: string): string {
  return `{"cluster_id":${dec(clusterId)},"member_id":${dec(memberId)},"raft_term":2}`;
}

/** etcdctl's global flags this procedure uses; values are accepted as given (the pod has the certs). */
function parse(argv: string[]): { args: string[]; output: string } | string {
  const args: string[] = [];
  let output = 'simple';
  const valued = ['--endpoints', '--cacert', '--cert', '--key', '--write-out', '-w', '--command-timeout', '--dial-timeout'];
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
    return { error: `the fleet's exec stand-in only runs etcdctl in etcd pods, not "${command.join(' ')}" in ${pod.name}` };
  }
  // The etcd container of a control plane whose static pods are down (reset, stopped) cannot answer.
  if (!alive(readPid(path.join(runDir(dir, pod.node), 'apiserver.pid')))) return { error: 'unable to upgrade connection: container not found ("etcd")' };
  const p = parse(command.slice(1));
  if (typeof p === 'string') return failed(EXIT_BAD_ARGS, p);
  if (p.output !== 'simple' && p.output !== 'json') return failed(EXIT_BAD_ARGS, `unknown output format "${p.output}"`);
  const [group, verb, id] = p.args;
  if (group !== 'member' || (verb !== 'list' && verb !== 'remove')) return failed(EXIT_BAD_ARGS, `the fleet's etcdctl stand-in does not support "${p.args.join(' ')}"`);
  const s = readState(dir);
  const self = s.etcdMembers.find((m) => m.name === pod.node)?.id ?? s.etcdMembers[0]?.id ?? s.etcdClusterId;
  if (verb === 'list') {
    if (p.output === 'json') return { stdout: `{"header":${header(s.etcdClusterId, self)},"members":[${s.etcdMembers.map(memberJSON).join(',')}]}\n`, stderr: '', exitCode: 0 };
    const lines = s.etcdMembers.map((m) => `${m.id}, started, ${m.name}, ${m.peerURL}, ${m.clientURL}, false\n`);
    return { stdout: lines.join(''), stderr: '', exitCode: 0 };
  }
  if (id === undefined) return failed(EXIT_BAD_ARGS, 'member ID is not provided');
  if (!/^[0-9a-fA-F]{1,16}$/.test(id)) return failed(EXIT_BAD_ARGS, `bad member ID arg (strconv.ParseUint: parsing "${id}": invalid syntax), expecting ID in Hex`);
  const removed = updateState(dir, (st) => {
    const m = st.etcdMembers.find((x) => BigInt(`0x${x.id}`) === BigInt(`0x${id}`));
    st.etcdMembers = st.etcdMembers.filter((x) => x !== m);
    return m;
  });
  if (!removed) return failed(EXIT_ERROR, 'etcdserver: member not found');
  if (p.output === 'json') {
    const rest = s.etcdMembers.filter((m) => m.id !== removed.id);
    return { stdout: `{"header":${header(s.etcdClusterId, self)},"members":[${rest.map(memberJSON).join(',')}]}
`, stderr: '', exitCode: 0 };
  }
  return { stdout: `Member ${removed.id} removed from cluster ${s.etcdClusterId}\n`, stderr: '', exitCode: 0 };
}
