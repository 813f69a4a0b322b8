// The run's progress as the `progress` query returns it, and what the Web UI and a worker-less
// `status` read: search attributes (phase, status), current details, and a compact memo. Only the
// workflow mutates it.
import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import {
  Cleanup,
  FailedPhaseKey,
  HOST_STATES,
  RUNNING_NAMED,
  HostProgress,
  HostState,
  PhaseKey,
  PhaseState,
  Progress,
  PROGRESS_MEMO,
  RunStatus,
  StatusKey,
  type WaveProgress,
} from '../../shared/definitions';
import type { Decisions } from './decisions';

const MAX_CLEANUPS = 100;
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export class RunProgress {
  status: RunStatus = 'running';
  lastError: string | undefined;
  private readonly phases: Progress['phases'];
  private readonly hosts: HostProgress[];
  private readonly byName = new Map<string, HostProgress>();
  private readonly cleanups: Cleanup[] = [];
  private shown = '';
  /** Where a step last parked or the run failed (FailedPhaseKey). */
  private failedPhase: string | undefined;
  private finishedSincePublished = 0;
  /** The waves of the run's workers, as engine/waves.ts runs them. */
  readonly waves: WaveProgress[] = [];
  /** Set in a wave: called after each publish, to report to the run (engine/waves.ts). */
  private onPublished: (() => void) | undefined;
  /** Hosts whose state changed since the last report; kept only in a wave. */
  private readonly changedHosts = new Set<string>();

  constructor(
    private readonly cluster: string,
    hosts: Pick<HostProgress, 'name' | 'address' | 'role'>[],
    phases: { name: string; title: string }[],
    private readonly decisions: Decisions,
  ) {
    this.phases = phases.map((p) => ({ name: p.name, title: p.title, state: 'pending' as PhaseState }));
    this.hosts = hosts.map((h) => ({ name: h.name, address: h.address, role: h.role, state: 'pending' as HostState }));
    for (const h of this.hosts) this.byName.set(h.name, h);
  }

  get currentPhase(): string {
    return (
      this.phases.find((p) => p.state === 'running' || p.state === 'failed') ??
      [...this.phases].reverse().find((p) => p.state !== 'pending') ??
      this.phases[0]
    ).name;
  }

  setPhase(name: string, state: PhaseState, reason?: string): void {
    const phase = this.phases.find((p) => p.name === name);
    if (!phase) return;
    phase.state = state;
    if (state === 'failed') this.failedPhase = name;
    if (reason) phase.reason = reason;
    this.changed();
  }

  setHost(name: string, state: HostState, detail?: string): void {
    const host = this.byName.get(name);
    if (!host) return;
    host.state = state;
    if (detail === undefined) delete host.detail;
    else host.detail = detail;
    if (this.onPublished) this.changedHosts.add(name);
  }

  /** In a wave: `report` runs after each publish (see changedSinceReport). */
  reportEachPublish(report: () => void): void {
    this.onPublished = report;
  }

  /**
   * The hosts whose state changed since the last call, for a wave's report. Their detail only when
   * an operator needs it (parked, failed, skipped): a wave's report stays small per host.
   */
  changedSinceReport(): Pick<HostProgress, 'name' | 'state' | 'detail'>[] {
    const out = [...this.changedHosts].map((name) => {
      const h = this.byName.get(name)!;
      const told = h.state !== 'done' && h.state !== 'running' && h.state !== 'pending' && h.detail !== undefined;
      return { name, state: h.state, ...(told ? { detail: h.detail } : {}) };
    });
    this.changedHosts.clear();
    return out;
  }

  detailOf(name: string): string | undefined {
    return this.byName.get(name)?.detail;
  }

  /**
   * A host's step ended (or `hosts` steps, as a wave reports them). Publishes every tenth of the fleet, so the Web UI and a worker-less status
   * stay current at any size for a bounded number of memo updates; every time while a step is parked.
   */
  hostFinished(hosts = 1): void {
    this.finishedSincePublished += hosts;
    if (this.decisions.parked.size > 0 || this.finishedSincePublished >= Math.max(1, Math.ceil(this.hosts.length / 10)))
      this.changed();
  }

  cleanup(host: string, step: string, detail: string): void {
    this.cleanups.push({ host, step, detail, at: new Date().toISOString() });
    if (this.cleanups.length > MAX_CLEANUPS) this.cleanups.shift();
  }

  counts(): Record<HostState, number> {
    const c = Object.fromEntries(HOST_STATES.map((s) => [s, 0])) as Record<HostState, number>;
    for (const h of this.hosts) c[h.state]++;
    return c;
  }

  private runStatus(): RunStatus {
    if (this.status !== 'running') return this.status;
    if (this.decisions.parked.size > 0) return 'parked';
    return this.decisions.awaitingGate ? 'awaiting-approval' : 'running';
  }

  view(): Progress {
    return {
      cluster: this.cluster,
      status: this.runStatus(),
      phase: this.currentPhase,
      phases: this.phases.map((p) => ({ ...p })),
      ...(this.decisions.awaitingGate ? { awaitingApproval: this.decisions.awaitingGate } : {}),
      parked: [...this.decisions.parked.values()],
      decisions: [...this.decisions.taken],
      hosts: this.hosts.map((h) => ({ ...h })),
      counts: this.counts(),
      cleanups: [...this.cleanups],
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.waves.length ? { waves: this.waves.map((w) => ({ ...w })) } : {}),
    };
  }

  /**
   * The view kept in the memo: hosts that are done or pending are counted, not listed, and running
   * ones listed only as far as `status` names them, so it stays small at any size and concurrency.
   * Hosts that need an operator (parked, failed, skipped) are all listed.
   */
  compactView(): Progress {
    const v = this.view();
    const running = v.hosts.filter((h) => h.state === 'running').slice(0, RUNNING_NAMED);
    return {
      ...v,
      hosts: v.hosts.filter(
        (h) => h.state !== 'done' && h.state !== 'pending' && (h.state !== 'running' || running.includes(h)),
      ),
      cleanups: v.cleanups.slice(-20),
    };
  }

  /**
   * Publishes what changed to the Web UI (search attributes, current details) and the memo. Called
   * at phase changes, parks, decisions and the end: a handful of events per run, not per host.
   */
  changed(): void {
    const status = this.runStatus();
    const phase = this.currentPhase;
    const c = this.counts();
    const counts = HOST_STATES.filter((s) => c[s] > 0)
      .map((s) => `${c[s]} ${s}`)
      .join(', ');
    const parkedSteps = [...this.decisions.parked.values()];
    const parked = parkedSteps.map((p) => `${p.step} on **${p.host}**`).join(', ');
    // The first few parks with their reason and what a retry does, as status prints them.
    const why = parkedSteps
      .slice(0, 3)
      .map(
        (p) =>
          `**${p.host}**: ${clip(p.attempts.at(-1)?.error ?? '', 300)}` +
          (p.retryWill?.length ? `; a retry will: ${p.retryWill.map((w, i) => `(${i + 1}) ${w}`).join(' ')}` : ''),
      );
    const waves = this.waves.filter((w) => w.state !== 'done').map((w) => `${w.id} ${w.state} (${w.hosts} hosts)`);
    const details = [
      `**${status}** in **${phase}**${this.decisions.awaitingGate ? `: waiting for approval of **${this.decisions.awaitingGate}**` : ''}`,
      `hosts: ${counts}`,
      ...(waves.length ? [`waves: ${waves.join(', ')}; ${this.waves.length - waves.length} done`] : []),
      ...(parked ? [`parked: ${parked} (kubeadm-ha status ${this.cluster})`, ...why] : []),
      ...(this.lastError ? [`last error: ${this.lastError}`] : []),
    ].join('\n\n');
    const lastParked = [...this.decisions.parked.values()].at(-1);
    if (lastParked) this.failedPhase = lastParked.phase;
    const key = `${status}|${phase}|${this.failedPhase}|${details}`;
    if (key === this.shown) return;
    this.onPublished?.();
    this.shown = key;
    this.finishedSincePublished = 0;
    // Still one upsert per change: a run with nothing failed keeps the history shape it had before the key existed.
    upsertSearchAttributes([
      { key: PhaseKey, value: phase },
      { key: StatusKey, value: status },
      ...(this.failedPhase ? [{ key: FailedPhaseKey, value: this.failedPhase }] : []),
    ]);
    setCurrentDetails(details);
    upsertMemo({ [PROGRESS_MEMO]: this.compactView() });
  }
}
