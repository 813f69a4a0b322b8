// The shapes of the CLI's verbs, and the builders the verb table (cli.ts) uses for the families of
// verbs that share their options: the gate decisions, the park decisions, and start/reset.
import type { ParseArgsConfig } from 'node:util';
import type { Client } from '@temporalio/client';
import { GATES } from '../config/enums';
import type { ParkVerdict } from '../shared/definitions';
import { type Operation, start, type StartOptions } from './commands';
import type { TemporalTarget } from './connection';
import { decide, resolve } from './decisions';
import { UsageError } from './usage-error';

export type Values = Record<string, string | boolean | undefined>;
export interface Verb {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals: string[];
  /** Flags that must be given, with how to describe them when missing. */
  required?: Record<string, string>;
  /** Local checks before connecting to Temporal (a bad cluster file needs no server to be refused). */
  check?(pos: string[]): void;
  run?(client: Client, t: TemporalTarget, pos: string[], v: Values, print: (s: string) => void): Promise<number>;
  /** Verbs that need no Temporal connection (keys, the codec server). */
  local?(pos: string[], v: Values, print: (s: string) => void): Promise<number>;
}

export const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const phases = GATES.join('|');
const knownPhase = ([, phase]: string[]) => {
  if (!(GATES as readonly string[]).includes(phase))
    throw new UsageError(`"${phase}" is not a phase with an approval gate; use one of ${GATES.join(', ')}`);
};

export function parkVerb(action: ParkVerdict, summary: string): Record<string, Verb> {
  return {
    [action]: {
      usage: `kubeadm-ha ${action} <cluster> <host> --as NAME [--reason TEXT]`,
      summary,
      options: { as: { type: 'string' }, reason: { type: 'string' } },
      positionals: ['cluster', 'host'],
      required: { as: `--as NAME (who decides to ${action})` },
      run: (c, _t, [cluster, host], v, print) => resolve(c, cluster, host, action, String(v.as), str(v.reason), print),
    },
  };
}

export function gateVerb(
  verdict: 'approve' | 'reject',
  textFlag: 'comment' | 'reason',
  who: string,
  summary: string,
): Record<string, Verb> {
  return {
    [verdict]: {
      usage: `kubeadm-ha ${verdict} <cluster> <${phases}> --as NAME [--${textFlag} TEXT]`,
      summary,
      options: { as: { type: 'string' }, [textFlag]: { type: 'string' } },
      positionals: ['cluster', 'phase'],
      required: { as: `--as NAME (${who})` },
      check: knownPhase,
      run: (c, _t, [cluster, phase], v, print) =>
        decide(c, cluster, phase, verdict, String(v.as), str(v[textFlag]), print),
    },
  };
}

export const START_OPTIONS: Verb['options'] = {
  watch: { type: 'boolean' },
  'auto-approve': { type: 'string' },
  'exit-on-park': { type: 'boolean' },
};
/** start, reset and upgrade: a run of the cluster file's cluster, followed when asked to. */
export const startRun =
  (operation: Operation, approvedPlan?: StartOptions['approvedPlan']): NonNullable<Verb['run']> =>
  (c, t, [file], v, print) =>
    start(
      c,
      t,
      {
        clusterFile: file,
        watch: Boolean(v.watch) || v['auto-approve'] !== undefined || Boolean(v['exit-on-park']),
        autoApprove: str(v['auto-approve']),
        exitOnPark: Boolean(v['exit-on-park']),
        operation,
        ...(approvedPlan ? { approvedPlan } : {}),
      },
      print,
    );
