#!/usr/bin/env node
// kubeadm-ha: plan, start, reset, approve, reject, watch, list and cancel HA cluster runs; make payload keys, serve the codec.
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { kubeadmHaDataConverter } from '../codec/data-converter';
import { codecNotice, loadCodecKeys, newKeyLine, KEY_FILE_ENV } from '../codec/keys';
import { keygen } from './keygen';
import { serveCodec } from './serve-codec';
import { ClusterFileError, loadClusterFile } from '../config/cluster-file';
import { cancel, list, plan, watch } from './commands';
import { upgradePlan } from './upgrade-plan';
import { status } from './status';
import { UsageError } from './usage-error';
import { messageWithCauses } from './reach';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  connectionFlags,
  TemporalConfigError,
  temporalTarget,
} from './connection';
import { openConnection } from './connect';
import { gateVerb, parkVerb, START_OPTIONS, startRun, str, type Verb } from './verbs';

const COMMON = `Common options:
  -h, --help                Show help for the command
${CONNECTION_HELP}`;

const VERBS: Record<string, Verb> = {
  plan: {
    usage: 'kubeadm-ha plan <cluster-file> [--json]',
    summary:
      'Inspect the hosts read-only and print what a start would do: each phase with its hosts and actions, or why it is skipped; ' +
      'the gates it will ask for; "nothing to do" when the cluster matches the file; a fingerprint of the facts used. Changes nothing.',
    options: { json: { type: 'boolean' } },
    positionals: ['cluster-file'],
    check: ([file]) => {
      loadClusterFile(file);
    },
    run: (c, _t, [file], v, print) => plan(c, file, Boolean(v.json), print),
  },
  start: {
    usage: 'kubeadm-ha start <cluster-file> [--watch] [--auto-approve NAME] [--exit-on-park]',
    summary:
      'Validate a cluster file and start a run. --watch follows it to the end; --auto-approve NAME approves every gate as NAME (demos, CI); ' +
      '--exit-on-park stops following (exit 5) as soon as a step parks, after printing why, and (exit 6) when the run cannot go on ' +
      'by itself for 30 s (no worker answers, or its workflow task keeps failing): for runs nobody is watching. A failed run exits 1 with its step and error.',
    options: START_OPTIONS,
    positionals: ['cluster-file'],
    check: ([file]) => {
      loadClusterFile(file);
    },
    run: startRun('build'),
  },
  reset: {
    usage: 'kubeadm-ha reset <cluster-file> [--watch] [--auto-approve NAME] [--exit-on-park]',
    summary:
      'Take the cluster down: after one approval (gate "reset", listing the hosts), kubeadm reset -f on every host that holds ' +
      'anything of kubeadm: the workers, then the control planes one at a time with the first one last, then the etcd hosts. ' +
      'Leaves hosts a new build takes as clean. The options are those of start.',
    options: START_OPTIONS,
    positionals: ['cluster-file'],
    check: ([file]) => {
      loadClusterFile(file);
    },
    run: startRun('reset'),
  },
  upgrade: {
    usage:
      'kubeadm-ha upgrade <cluster-file> [--plan [--json] [--save FILE]] [--approved-plan FILE --as NAME] [--watch] [--auto-approve NAME] [--exit-on-park]',
    summary:
      "Upgrade the cluster to the file's kubernetesVersion, one minor at a time (upgrade.through names each minor between): " +
      'after one approval (gate "upgrade"), a backup (etcd snapshot, pki and manifests), kubeadm upgrade apply on ' +
      'the first control plane, kubeadm upgrade node on the others one at a time, then the workers in batches (upgrade.workerBatch); ' +
      'on each node drain, the new kubelet and kubectl, restart, uncordon. A drain a PodDisruptionBudget stops parks the node: ' +
      "retry, disable-eviction, skip (workers) or abort. --plan prints what it would do and the facts' fingerprint, changing " +
      'nothing; --save keeps that plan, and --approved-plan FILE --as NAME starts the upgrade under it without the gate, ' +
      'stopping before any change if the nodes differ from it. The other options are those of start.',
    options: {
      ...START_OPTIONS,
      plan: { type: 'boolean' },
      json: { type: 'boolean' },
      save: { type: 'string' },
      'approved-plan': { type: 'string' },
      as: { type: 'string' },
    },
    positionals: ['cluster-file'],
    check: ([file]) => {
      loadClusterFile(file);
    },
    run: (c, t, args, v, print) => {
      const approved = str(v['approved-plan']);
      if (approved !== undefined && str(v.as) === undefined)
        throw new UsageError('--approved-plan FILE needs --as NAME: who approved that plan');
      if (v.plan && approved !== undefined) throw new UsageError('--plan and --approved-plan: choose one');
      if (v.plan) return upgradePlan(c, args[0], { json: Boolean(v.json), save: str(v.save) }, print);
      const run = startRun('upgrade', approved === undefined ? undefined : { file: approved, approver: String(v.as) });
      return run(c, t, args, v, print);
    },
  },
  ...gateVerb(
    'approve',
    'comment',
    'who approves',
    'Approve the phase that is waiting. Refused when that phase is not the one waiting.',
  ),
  ...gateVerb(
    'reject',
    'reason',
    'who rejects',
    'Reject the phase that is waiting; the run stops there, before the phase changes anything.',
  ),
  ...parkVerb(
    'retry',
    'Run the step parked on <host> again, after you fixed the host (a half-done node is reset first).',
  ),
  ...parkVerb('skip', 'Skip the worker parked on <host>: the run goes on and ends "completed with skipped hosts".'),
  ...parkVerb(
    'disable-eviction',
    'Drain the node parked on <host> again without eviction (kubectl drain --disable-eviction): its pods are deleted ' +
      'without asking their PodDisruptionBudgets. Offered only when a budget stopped the drain; recorded with --as.',
  ),
  ...parkVerb('abort', 'End the run at the step parked on <host>: it stops cleanly and leaves the hosts as they are.'),
  status: {
    usage: 'kubeadm-ha status <cluster> [--json] [--hosts]',
    summary:
      "Show phases, hosts, approvals and the last error of the cluster's run. Above 20 hosts the hosts are summarised " +
      '(counts per state and role, failed and parked hosts by name, the rate and ETA of the running phase); --hosts prints every host.',
    options: { json: { type: 'boolean' }, hosts: { type: 'boolean' } },
    positionals: ['cluster'],
    run: (c, _t, [cluster], v, print) => status(c, cluster, Boolean(v.json), print, Boolean(v.hosts)),
  },
  watch: {
    usage: 'kubeadm-ha watch <cluster>',
    summary: 'Print progress as it changes until the run ends.',
    options: {},
    positionals: ['cluster'],
    run: (c, t, [cluster], _v, print) => watch(c, t, cluster, print),
  },
  list: {
    usage: 'kubeadm-ha list [--json]',
    summary: 'List runs with their cluster, status and phase.',
    options: { json: { type: 'boolean' } },
    positionals: [],
    run: (c, _t, _p, v, print) => list(c, Boolean(v.json), print),
  },
  cancel: {
    usage: 'kubeadm-ha cancel <cluster>',
    summary: "Cancel the cluster's run; commands running on hosts are stopped.",
    options: {},
    positionals: ['cluster'],
    run: (c, _t, [cluster], _v, print) => cancel(c, cluster, print),
  },
  keygen: {
    usage: 'kubeadm-ha keygen [--file PATH [--rotate]]',
    summary: `Print a new payload key line "<key-id> <base64>" for ${KEY_FILE_ENV}. --file creates that key file (mode 600) unless it exists; --rotate puts a new key on top of it (new payloads use it, older keys still decrypt).`,
    options: { file: { type: 'string' }, rotate: { type: 'boolean' } },
    positionals: [],
    local: async (_p, v, print) => {
      if (v.file === undefined) {
        if (v.rotate) throw new UsageError('--rotate needs --file PATH');
        print(newKeyLine());
        return 0;
      }
      print(keygen(String(v.file), Boolean(v.rotate)));
      return 0;
    },
  },
  'codec-server': {
    usage: 'kubeadm-ha codec-server [--port 8888] [--listen 127.0.0.1] [--origin URL]... [--token-file PATH]',
    summary:
      `Serve POST /encode and /decode for the Temporal Web UI with the keys of ${KEY_FILE_ENV}, so the UI shows payloads decrypted. ` +
      '--origin is the Web UI\'s origin allowed by CORS (default: the origin of --ui or TEMPORAL_UI_URL, else http://localhost:8233; repeat for more); --token-file requires "Authorization: Bearer <token>".',
    options: {
      port: { type: 'string' },
      origin: { type: 'string', multiple: true },
      'token-file': { type: 'string' },
      listen: { type: 'string' },
    },
    positionals: [],
    local: (_p, v, print) => serveCodec(v, print),
  },
};

function mainHelp(): string {
  const verbs = Object.entries(VERBS)
    .map(([name, v]) => `  ${name.padEnd(12)} ${v.summary}`)
    .join('\n');
  return (
    `kubeadm-ha: build highly available Kubernetes clusters with kubeadm, as a Temporal workflow.\n\n` +
    `Usage: kubeadm-ha <command> [options]\n\nCommands:\n${verbs}\n\n${COMMON}\n\nRun "kubeadm-ha <command> --help" for details.`
  );
}

export async function main(argv: string[], print: (s: string) => void = console.log): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    print(mainHelp());
    return name ? 0 : 2;
  }
  const verb = VERBS[name];
  if (!verb) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(VERBS).join(', ')}`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        ...verb.options,
        ...CONNECTION_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nUsage: ${verb.usage}`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) {
    print(`Usage: ${verb.usage}\n\n${verb.summary}\n\n${COMMON}`);
    return 0;
  }
  if (parsed.positionals.length !== verb.positionals.length) {
    throw new UsageError(
      `expected ${verb.positionals.map((p) => `<${p}>`).join(' ') || 'no arguments'}\nUsage: ${verb.usage}`,
    );
  }
  for (const [flag, what] of Object.entries(verb.required ?? {})) {
    const value = v[flag];
    if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`missing ${what}\nUsage: ${verb.usage}`);
  }
  verb.check?.(parsed.positionals);
  if (verb.local) return verb.local(parsed.positionals, v, print);
  const keys = loadCodecKeys();
  if (!keys.encryptKeyId) console.error(`kubeadm-ha: ${codecNotice(keys)}`);
  const t = temporalTarget(connectionFlags(v));
  const connection = await openConnection(t);
  try {
    const client = new Client({
      connection,
      namespace: t.namespace,
      dataConverter: kubeadmHaDataConverter(keys, 'this CLI'),
    });
    return await verb.run!(client, t, parsed.positionals, v, print);
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      if (err instanceof UsageError || err instanceof ClusterFileError || err instanceof TemporalConfigError)
        console.error(`kubeadm-ha: ${err.message}`);
      else console.error(`kubeadm-ha: ${messageWithCauses(err)}`);
      process.exit(err instanceof ClusterFileError ? 2 : 1);
    },
  );
}
