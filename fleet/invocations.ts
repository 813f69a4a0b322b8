// The per-host logs of stand-in kubeadm invocations (and, apart, of the network stand-ins'): a start
// record before the command does anything and an end record when it exits (also on SIGTERM). A
// SIGKILLed process leaves only its start record.
import * as fs from 'node:fs';
import { invocationsFile, netInvocationsFile } from './layout';

export interface Invocation {
  pid: number;
  argv: string[];
  start: number;
  end?: number;
  exitCode?: number;
}

/**
 * Called by the stand-in first thing; the end record is appended from the exit handler. `file`:
 * kubeadm's log by default (the network stand-ins keep theirs in netInvocationsFile).
 */
export function recordInvocation(dir: string, host: string, argv: string[], file = invocationsFile(dir, host)): void {
  // One write per record with O_APPEND: lines of concurrent invocations do not interleave.
  fs.appendFileSync(file, JSON.stringify({ pid: process.pid, argv, start: Date.now() }) + '\n');
  process.on('exit', (exitCode) =>
    fs.appendFileSync(file, JSON.stringify({ pid: process.pid, end: Date.now(), exitCode }) + '\n'),
  );
  // Like Go's default: SIGTERM ends kubeadm at once (128+15); the end record says when.
  process.once('SIGTERM', () => process.exit(143));
}

export function readInvocations(dir: string, host: string, file = invocationsFile(dir, host)): Invocation[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const all: Invocation[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as Partial<Invocation>;
    if (r.argv) all.push({ pid: r.pid!, argv: r.argv, start: r.start! });
    else {
      // Pids get reused: an end belongs to the latest open start of that pid.
      const open = all.filter((x) => x.pid === r.pid && x.end === undefined).pop();
      if (open) Object.assign(open, { end: r.end, exitCode: r.exitCode });
    }
  }
  return all;
}

/** The network stand-ins' runs on a host (argv[0] is the tool: iptables-save, ip, ipvsadm, ...). */
export function readNetInvocations(dir: string, host: string): Invocation[] {
  return readInvocations(dir, host, netInvocationsFile(dir, host));
}
