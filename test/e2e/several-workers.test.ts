// Production Temporal: the mTLS + PostgreSQL server built here (scripts/temporal-prod.sh), three
// worker processes on the runs' task queue, each with its own SSH pool, and one of them SIGKILLed
// in the middle of the worker joins; then a zone's task queue that only one worker polls. The
// hosts' invocation logs and the history's worker identities say who ran what, and how often.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { FleetInfo } from '../../fleet';
import { main } from '../../src/client/cli';
import { loadClusterFile } from '../../src/config/cluster-file';
import { workflowIdFor } from '../../src/shared/definitions';
import {
  assertClusterBuilt,
  eventually,
  Rig,
  running,
  type TemporalService,
  type WorkerProcess,
} from '../helpers/harness';
import { ProdServer } from '../helpers/prod-server';
import { decryptHistoryJson } from '../helpers/history';

/** A history event in proto3 JSON, payloads decrypted (the fields these checks read). */
interface HistoryEvent {
  eventId: string;
  userMetadata?: { summary?: { data?: string } };
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  activityTaskStartedEventAttributes?: { scheduledEventId: string; identity: string; attempt: number };
}

/** Who started each activity: its type, host (from the summary the workflow gives) and the worker's identity. */
function activityStarts(events: HistoryEvent[]): { type: string; host: string; identity: string; attempt: number }[] {
  const scheduled = new Map<string, { type: string; host: string }>();
  const out: { type: string; host: string; identity: string; attempt: number }[] = [];
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const summary = e.userMetadata?.summary?.data;
      // The summary the workflow gives each activity for the Web UI: "<activity> <host>".
      const text = summary ? (JSON.parse(Buffer.from(summary, 'base64').toString()) as string) : '';
      scheduled.set(e.eventId, { type: s.activityType.name, host: text.split(' ').slice(1).join(' ') });
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const sch = scheduled.get(st.scheduledEventId);
      if (sch) out.push({ ...sch, identity: st.identity, attempt: st.attempt ?? 1 });
    }
  }
  return out;
}

describe('several workers on the mTLS + PostgreSQL Temporal built here', () => {
  const server: TemporalService = new ProdServer();
  const rig = new Rig(server);
  before(() => rig.up());
  after(() => rig.down());

  const start = (f: FleetInfo, out: string[] = []) =>
    main(['start', f.clusterFile, '--auto-approve', 'prod-bot', ...server.cliFlags()], (s) => out.push(s));
  const history = async (f: FleetInfo): Promise<HistoryEvent[]> => {
    const { client, close } = await server.client();
    try {
      const h = await client.workflow.getHandle(workflowIdFor(loadClusterFile(f.clusterFile).name)).fetchHistory();
      const doc = await decryptHistoryJson(JSON.parse(JSON.stringify(h)) as { events?: HistoryEvent[] });
      return doc.events ?? [];
    } finally {
      await close();
    }
  };

  it('three workers share the queue; one SIGKILLed mid-join is taken over, and every step ran once', async () => {
    const others = [await rig.addWorker(), await rig.addWorker()];
    const workers: WorkerProcess[] = [rig.worker, ...others];
    const f = await rig.fleet({ controlPlanes: 3, workers: 3, timing: { initMs: 3000, joinMs: 6000 } });
    const out: string[] = [];
    const run = start(f, out);
    await running(f, 'w1', 'join');
    // The worker whose activity runs w1's join: the pending activity names it.
    const { client, close } = await server.client();
    let victim: WorkerProcess;
    try {
      const handle = client.workflow.getHandle(workflowIdFor(loadClusterFile(f.clusterFile).name));
      const identity = await eventually('the worker running w1 join', async () => {
        const d = await handle.describe();
        const raw = d.raw.pendingActivities ?? [];
        return (
          raw.find((a) => a.activityType?.name === 'joinNode' && a.lastWorkerIdentity)?.lastWorkerIdentity ?? undefined
        );
      });
      victim = workers.find((w) => w.identity === identity)!;
      assert.ok(victim, `a worker of this rig runs the join (${identity})`);
    } finally {
      await close();
    }
    const victimIdentity = victim.identity;
    victim.kill();
    assert.equal(await run, 0, out.join('\n'));
    await assertClusterBuilt(f);
    const starts = activityStarts(await history(f));
    const by = new Set(starts.map((s) => s.identity));
    assert.ok(by.size >= 2, `the activities were shared between workers: ${[...by].join(', ')}`);
    const taken = starts.filter((s) => s.type === 'joinNode' && s.identity !== victimIdentity && s.attempt > 1);
    assert.ok(taken.length >= 1, 'a surviving worker took over a join the killed one had started');
    const afterKill = starts.slice(starts.findIndex((s) => s.identity === victimIdentity && s.type === 'joinNode') + 1);
    assert.ok(
      afterKill.every((s) => s.identity !== victimIdentity || s.type !== 'joinNode' || s.attempt === 1),
      'the killed worker started nothing after its death',
    );
  });

  it("a host's steps run only on its zone's queue, on the worker that polls it", async () => {
    const zone = await rig.addWorker('zone-b');
    const f = await rig.fleet({ controlPlanes: 1, workers: 2, timing: { initMs: 1000, joinMs: 1000 } });
    const doc = parse(readFileSync(f.clusterFile, 'utf8')) as { workers: { name: string; taskQueue?: string }[] };
    doc.workers.find((w) => w.name === 'w2')!.taskQueue = 'zone-b';
    writeFileSync(f.clusterFile, stringify(doc));
    const out: string[] = [];
    assert.equal(await start(f, out), 0, out.join('\n'));
    await assertClusterBuilt(f);
    const starts = activityStarts(await history(f));
    const onW2 = starts.filter((s) => s.host === 'w2');
    assert.ok(onW2.some((s) => s.type === 'joinNode') && onW2.some((s) => s.type === 'inspectHost'));
    assert.ok(
      onW2.every((s) => s.identity === zone.identity),
      `w2 only on the zone worker: ${JSON.stringify(onW2)}`,
    );
    assert.ok(
      starts.filter((s) => s.host !== 'w2').every((s) => s.identity !== zone.identity),
      'the zone worker ran nothing of the other hosts',
    );
  });
});
