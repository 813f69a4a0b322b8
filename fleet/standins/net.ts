// Stand-in iptables-save, iptables-restore, ip6tables-save, ip6tables-restore, ip and ipvsadm (the
// per-host wrappers in /usr/local/sbin come before /usr/sbin on the login PATH and in sudo's
// secure_path; the wrapper passes the tool's name first). Stand-in hosts share the machine's
// network namespace: the real tools would read and change the machine's own tables and devices.
// These answer from the host's files instead (netstate.ts), with the real tools' texts and exit
// codes (iptables 1.8.9 nf_tables, iproute2, ipvsadm 1.31), and record each run in the host's
// net-invocations.jsonl. `ip` passes read-only queries it does not model (addr, route, `link show`
// of a device the host does not have in its files) to the real ip, and refuses every other change.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { recordInvocation } from '../invocations';
import { netInvocationsFile } from '../layout';
import { hostEnv } from './env';
import { ExitError, runMain } from './errors';
import { applyFaults } from './faultcheck';
import {
  Family,
  RestoreError,
  addLink,
  formatTables,
  parseTables,
  readIpvs,
  readLinks,
  readTables,
  writeIpvs,
  writeLinks,
  writeTables,
} from './netstate';

const fail = (msg: string, code = 1): ExitError => new ExitError(msg, code, false);
const root = (): boolean => process.getuid?.() === 0;
const IPT = 'v1.8.9 (nf_tables)';

function notRoot(tool: string): ExitError {
  return fail(`${tool} ${IPT}: Could not fetch rule set generation id: Permission denied (you must be root)`, 4);
}

function save(tool: string, family: Family, argv: string[]): number {
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-t' || a === '--table') only = argv[++i];
    else if (a.startsWith('--table=')) only = a.slice('--table='.length);
    else if (a === '-c' || a === '--counters' || a === '-M' || a === '--modprobe') {
      if (a === '-M' || a === '--modprobe') i++;
    } else throw fail(`${tool}: unrecognized option '${a}'\nTry \`${tool} -h' for more information.`, 2);
  }
  if (!root()) throw notRoot(tool);
  const e = hostEnv();
  const tables = readTables(e.dir, e.host, family).filter((t) => !only || t.name === only);
  process.stdout.write(formatTables(tables, { tool, date: new Date() }));
  return 0;
}

function restore(tool: string, family: Family, argv: string[]): number {
  let noflush = false;
  let test = false;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-n' || a === '--noflush') noflush = true;
    else if (a === '-t' || a === '--test') test = true;
    // Counters, verbosity, the xtables lock wait: nothing to do here.
    else if (['-c', '--counters', '-v', '--verbose', '-w', '-W'].includes(a) || /^--wait(=\d+)?$/.test(a)) continue;
    else if (a.startsWith('-')) throw fail(`${tool}: unrecognized option '${a}'`, 2);
    else if (file === undefined) file = a;
    else throw fail(`Unknown arguments found on commandline`, 2);
  }
  let text: string;
  try {
    text = fs.readFileSync(file ?? 0, 'utf8');
  } catch {
    throw fail(`Can't open ${file}: No such file or directory`, 1);
  }
  if (!root()) throw notRoot(tool);
  let tables;
  try {
    tables = parseTables(text);
  } catch (err) {
    if (!(err instanceof RestoreError)) throw err;
    if (err.code === 1) throw fail(`${tool}: ${err.message}`, 1);
    throw fail(
      `${tool} ${IPT}: ${err.message}\nError occurred at line: ${err.line}\nTry \`${tool} -h' or '${tool} --help' for more information.`,
      2,
    );
  }
  if (test) return 0;
  const e = hostEnv();
  const state = readTables(e.dir, e.host, family);
  for (const t of tables) {
    const i = state.findIndex((s) => s.name === t.name);
    if (i < 0) state.push(t);
    else if (!noflush) state[i] = t;
    else {
      const s = state[i];
      for (const c of t.chains) {
        const have = s.chains.find((x) => x.name === c.name);
        if (!have) s.chains.push(c);
        else {
          if (c.policy !== '-') have.policy = c.policy;
          have.rules.push(...c.rules);
        }
      }
    }
  }
  writeTables(e.dir, e.host, family, state);
  return 0;
}

/** The real ip, for read-only queries (never /usr/local/sbin: that is this stand-in). */
function realIp(): string | undefined {
  return ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => fs.existsSync(p));
}

function passThrough(argv: string[]): number {
  const real = realIp();
  if (!real) throw fail('ip: command not found', 127);
  const r = spawnSync(real, argv, { stdio: 'inherit' });
  return r.status ?? 1;
}

const MANAGED = ['cni0', 'flannel.1', 'kube-ipvs0'];
const isVerb = (w: string | undefined, full: string, min = 1): boolean => !!w && w.length >= min && full.startsWith(w);

function linkLines(l: { name: string; type: string; index: number; mac: string }): string {
  const flags =
    l.type === 'dummy'
      ? '<BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN'
      : `<BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state ${l.type === 'vxlan' ? 'UNKNOWN' : 'UP'}`;
  return `${l.index}: ${l.name}: ${flags} mode DEFAULT group default${l.type === 'bridge' ? ' qlen 1000' : ''}\n    link/ether ${l.mac} brd ff:ff:ff:ff:ff:ff\n`;
}

function ip(argv: string[]): number {
  const refuse = (): ExitError =>
    fail(
      `fleet stand-in ip: "ip ${argv.join(' ')}" would change the machine's network (stand-in hosts share it); it is not modelled`,
      2,
    );
  let i = 0;
  // Global options that only shape the output; -n/-netns, -b/-batch and -force are refused.
  while (i < argv.length && argv[i].startsWith('-')) {
    const o = argv[i];
    if (
      /^-(4|6|0|o(neline)?|d(etails)?|s(tat(istics)?)?|br(ief)?|j(son)?|p(retty)?|c(olou?r)?(=\S+)?|h(uman)?|V(ersion)?)$/.test(
        o,
      )
    )
      i++;
    else if (o === '-f' || o === '-family') i += 2;
    else throw refuse();
  }
  const [object, verb, ...rest] = argv.slice(i);
  const e = hostEnv();
  const named = rest.filter((w) => w !== 'dev');
  if (isVerb(object, 'link') && (verb === undefined || isVerb(verb, 'show') || isVerb(verb, 'list'))) {
    const name = named[0];
    const ours = readLinks(e.dir, e.host).find((l) => l.name === name);
    if (name && (ours || MANAGED.includes(name))) {
      if (!ours) throw fail(`Device "${name}" does not exist.`, 1);
      process.stdout.write(linkLines(ours));
      return 0;
    }
    return passThrough(argv);
  }
  if (isVerb(object, 'link') && (isVerb(verb, 'delete', 3) || verb === 'del')) {
    const name = named[0];
    const links = readLinks(e.dir, e.host);
    if (!name) throw fail('Not enough information: "dev" argument is required.', 1);
    if (!links.some((l) => l.name === name) && !MANAGED.includes(name)) throw refuse();
    if (!root()) throw fail('RTNETLINK answers: Operation not permitted', 2);
    if (!links.some((l) => l.name === name)) throw fail(`Cannot find device "${name}"`, 1);
    writeLinks(
      e.dir,
      e.host,
      links.filter((l) => l.name !== name),
    );
    return 0;
  }
  if (isVerb(object, 'link') && isVerb(verb, 'add')) {
    // ip link add [name] NAME type TYPE
    const words = rest[0] === 'name' ? rest.slice(1) : rest;
    const t = words.indexOf('type');
    if (!words[0] || t < 0 || !words[t + 1]) throw refuse();
    if (!root()) throw fail('RTNETLINK answers: Operation not permitted', 2);
    if (!addLink(e.dir, e.host, words[0], words[t + 1])) throw fail('RTNETLINK answers: File exists', 2);
    return 0;
  }
  const readOnly =
    object === undefined ||
    ((isVerb(object, 'address') || isVerb(object, 'route') || isVerb(object, 'rule') || isVerb(object, 'neighbour')) &&
      (verb === undefined || isVerb(verb, 'show') || isVerb(verb, 'list') || verb === 'get'));
  if (readOnly) return passThrough(argv);
  throw refuse();
}

const IPVS_HEADER =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';

function ipvsadm(argv: string[]): number {
  if (!root())
    throw fail(
      "Can't initialize ipvs: Permission denied (you must be root?)\nAre you sure that IP Virtual Server is built in the kernel or as module?",
      1,
    );
  const e = hostEnv();
  const [cmd, ...rest] = argv;
  if (cmd === '-C' || cmd === '--clear') {
    writeIpvs(e.dir, e.host, []);
    return 0;
  }
  if (cmd === undefined || cmd === '-L' || cmd === '-l' || cmd === '--list' || cmd === '-Ln') {
    process.stdout.write(
      IPVS_HEADER +
        readIpvs(e.dir, e.host)
          .map((s) => s + '\n')
          .join(''),
    );
    return 0;
  }
  if (cmd === '-A' || cmd === '--add-service') {
    // ipvsadm -A -t|-u ADDR:PORT [-s SCHED]
    const proto = rest[0] === '-u' ? 'UDP' : rest[0] === '-t' ? 'TCP' : undefined;
    if (!proto || !rest[1]) throw fail('ipvsadm: the fleet stand-in adds only -t|-u ADDR:PORT [-s SCHED]', 2);
    const s = rest.indexOf('-s');
    writeIpvs(e.dir, e.host, [...readIpvs(e.dir, e.host), `${proto}  ${rest[1]} ${s >= 0 ? rest[s + 1] : 'wlc'}`]);
    return 0;
  }
  throw fail(`ipvsadm: the fleet stand-in does not model ${JSON.stringify(cmd)}`, 2);
}

async function main(): Promise<number> {
  const [tool, ...argv] = process.argv.slice(2);
  const e = hostEnv();
  recordInvocation(e.dir, e.host, [tool, ...argv], netInvocationsFile(e.dir, e.host));
  await applyFaults(tool, argv);
  switch (tool) {
    case 'iptables-save':
      return save(tool, 'iptables', argv);
    case 'ip6tables-save':
      return save(tool, 'ip6tables', argv);
    case 'iptables-restore':
      return restore(tool, 'iptables', argv);
    case 'ip6tables-restore':
      return restore(tool, 'ip6tables', argv);
    case 'ip':
      return ip(argv);
    case 'ipvsadm':
      return ipvsadm(argv);
    default:
      throw fail(`fleet network stand-in: unknown tool ${JSON.stringify(tool)}`, 2);
  }
}

runMain(main);
