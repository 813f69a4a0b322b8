// Where a run's time goes: each kubeadm init and join as the hosts' audit log recorded it (the real
// fleet's /usr/local/bin/kubeadm), next to the activity that ran it, from the workflow's history
// (scheduled to completed; only event types and times are read, so the payload key is not needed).
// The difference is kubeadm-ha's own time around kubeadm's: SSH, the journal, the checks before and
// after, and the task queue.
//
//   npm run build && node lib/scripts/step-times.js --dir .run/fleet [--address localhost:7233] [--namespace default]
import { Connection, Client } from '@temporalio/client';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readInvocations } from '../fleet';
import { workflowIdFor } from '../src/shared/definitions';
import { loadClusterFile } from '../src/config/cluster-file';

interface Span {
  what: string;
  host: string;
  start: number;
  end: number;
}

function flag(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : fallback;
  if (v === undefined)
    throw new Error(`usage: step-times --dir <fleet dir> [--address host:port] [--namespace ns]; --${name} is missing`);
  return v;
}

async function main(): Promise<void> {
  const dir = flag('dir');
  // The hosts' logs stay after `down`, so this works on a fleet that is gone too.
  const kubeadm: Span[] = readdirSync(join(dir, 'hosts')).flatMap((host) =>
    readInvocations(dir, host)
      .filter((i) => ['init', 'join'].includes(i.argv[0]) && i.end !== undefined && i.exitCode === 0)
      .map((i) => ({ what: `kubeadm ${i.argv[0]}`, host, start: i.start, end: i.end! })),
  );
  const connection = await Connection.connect({ address: flag('address', 'localhost:7233') });
  try {
    const client = new Client({ connection, namespace: flag('namespace', 'default') });
    const handle = client.workflow.getHandle(workflowIdFor(loadClusterFile(join(dir, 'cluster.yaml')).name));
    const history = await handle.fetchHistory();
    const scheduled = new Map<string, { type: string; at: number }>();
    const activities: Array<{ type: string; start: number; end: number }> = [];
    const ms = (t: unknown) =>
      Number((t as { seconds: { toString(): string } }).seconds.toString()) * 1000 +
      Math.floor(((t as { nanos?: number }).nanos ?? 0) / 1e6);
    let first = Infinity;
    let last = 0;
    for (const e of history.events ?? []) {
      const at = ms(e.eventTime);
      first = Math.min(first, at);
      last = Math.max(last, at);
      if (e.activityTaskScheduledEventAttributes)
        scheduled.set(String(e.eventId), {
          type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?',
          at,
        });
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const s = scheduled.get(String(done.scheduledEventId));
        if (s) activities.push({ type: s.type, start: s.at, end: at });
      }
    }
    const rows = kubeadm
      .sort((a, b) => a.start - b.start)
      .map((k) => {
        const a = activities.find((x) => x.start <= k.start && x.end >= k.end);
        const kubeadmS = (k.end - k.start) / 1000;
        const activityS = a ? (a.end - a.start) / 1000 : NaN;
        return {
          step: `${k.what} on ${k.host}`,
          activity: a?.type ?? '?',
          kubeadmS,
          activityS,
          overheadS: activityS - kubeadmS,
        };
      });
    const f = (n: number) => (Number.isNaN(n) ? '?' : n.toFixed(1));
    console.log(['step', 'activity', 'kubeadm s', 'activity s', 'kubeadm-ha s'].join('\t'));
    for (const r of rows) console.log([r.step, r.activity, f(r.kubeadmS), f(r.activityS), f(r.overheadS)].join('\t'));
    const inKubeadm = rows.reduce((t, r) => t + r.kubeadmS, 0);
    console.log(
      `whole run ${f((last - first) / 1000)} s, of which kubeadm init/join ${f(inKubeadm)} s (the worker joins overlap)`,
    );
  } finally {
    await connection.close();
  }
}

main().catch((e: Error) => {
  console.error(`step-times: ${e.message}`);
  process.exit(1);
});
