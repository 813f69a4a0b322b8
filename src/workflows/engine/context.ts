// What a phase's run gets: its steps on hosts, with parking, clean-up, progress and bounded
// concurrency brought by the engine, so a phase names itself once.
import type { Role } from '../../activities/types';
import type { Gate } from '../../config/enums';
import type { HostSpec } from '../../config/types';
import type { ParkDecisionInput, ParkedStep, ParkVerdict } from '../../shared/definitions';
import { mapWithLimit } from './concurrency';
import type { Decisions } from './decisions';
import type { RunProgress } from './progress';
import { type ResetPlan, SKIPPED, type StepRunner, type StepSpec } from './steps';

/** How the engine sees a workflow's hosts. */
export interface HostModel {
  roleOf(host: HostSpec): Role;
  /** An earlier attempt left the node half-done: a step there first cleans it. */
  halfDone(host: HostSpec): boolean;
  /** What a reset of the node before `step` would mean (see StepSpec.resetPlan). */
  resetPlan(host: HostSpec, step: string): (fromEarlierRun: boolean) => ResetPlan;
  /** A step finished on the host: it is now part of the cluster (`joined`), or clean and ready for the next step. */
  finished(host: HostSpec, joined: boolean, detail: string): void;
}

type StepFn = (stepId: string) => Promise<string>;
type CleanFn = (stepId: string, approvedBy?: string) => Promise<string | undefined>;

export interface OnHostsOptions {
  step: string;
  /** At most this many hosts at once; a parked host waits while the others go on. */
  limit: number;
  run(host: HostSpec): StepFn;
  /** Cleans what a failed try left (a reset); without it, failures park directly. */
  clean?(host: HostSpec): CleanFn;
  /** The step makes the host part of the cluster (a join, an init), not only ready for the next step. */
  joins?: boolean;
  /** The host's last step in the run (a removal, a reset): it is done afterwards, though not joined. */
  last?: boolean;
  /** The decisions a park offers after a failure of this type, when they are not the usual ones. */
  parkOptions?(failureType: string, host: HostSpec): ParkVerdict[] | undefined;
}

export class PhaseContext<S = unknown> {
  constructor(
    readonly phase: string,
    /** The workflow's typed run state. */
    readonly state: S,
    private readonly runner: StepRunner,
    readonly progress: RunProgress,
    private readonly decisions: Decisions,
    private readonly hosts: HostModel,
    /** The host of cluster-level steps (the first control plane). */
    private readonly clusterHost: HostSpec,
    /** Hosts an operator skipped, shared by every phase of the run. */
    readonly skipped: string[],
  ) {}

  /** Who approved `gate` in this run, if anyone did. */
  approverOf(gate: Gate): string | undefined {
    return this.decisions.taken.find((d) => d.phase === gate && d.verdict === 'approved')?.approver;
  }

  /** Who chose `verdict` for a step parked on `host` in this run, most recently. */
  choiceOn(host: string, verdict: ParkVerdict): string | undefined {
    return [...this.decisions.taken].reverse().find((d) => d.host === host && d.verdict === verdict)?.approver;
  }

  /** What the progress says of a host an operator skipped: who, and why. */
  skippedBy(host: string): string {
    const by = [...this.decisions.taken].reverse().find((d) => d.host === host && d.verdict === 'skip');
    return `skipped by ${by?.approver}${by?.comment ? `: ${by.comment}` : ''}`;
  }

  /** Steps parked in a wave, offered to operators as this run's (engine/waves.ts). */
  relayParks(wave: string, parked: ParkedStep[], send: (i: ParkDecisionInput) => void): boolean {
    return this.decisions.relayParks(wave, parked, send);
  }

  /** The run was aborted by an operator: no new step starts. */
  get aborted(): boolean {
    return this.runner.abort !== undefined;
  }

  /** One step per host, at most `limit` at once; a parked host waits while the others go on. */
  async onHosts(hosts: HostSpec[], o: OnHostsOptions): Promise<void> {
    await mapWithLimit(hosts, o.limit, async (host) => {
      if (this.runner.abort) return;
      const halfDone = this.hosts.halfDone(host);
      this.progress.setHost(
        host.name,
        'running',
        halfDone ? `${o.step}: first cleaning what an earlier attempt left` : o.step,
      );
      const role = this.hosts.roleOf(host);
      const r = await this.runner.run({
        phase: this.phase,
        step: o.step,
        host,
        role,
        skippable: role === 'worker',
        startWithClean: halfDone,
        run: o.run(host),
        ...(o.parkOptions ? { optionsFor: (type: string) => o.parkOptions!(type, host) } : {}),
        ...(o.clean ? { clean: o.clean(host), resetPlan: this.hosts.resetPlan(host, o.step) } : {}),
      });
      if (r === SKIPPED) {
        this.skipped.push(host.name);
        this.progress.setHost(host.name, 'skipped', this.skippedBy(host.name));
        this.progress.hostFinished();
        return;
      }
      this.hosts.finished(host, o.joins === true, r);
      this.progress.setHost(host.name, o.joins || o.last ? 'done' : 'running', r);
      this.progress.hostFinished();
    });
  }

  /** A cluster-level step (on the first control plane unless `host` is given): it parks like any other, but cannot be skipped. */
  onFirst<T>(
    step: string,
    run: (stepId: string) => Promise<T>,
    host: HostSpec = this.clusterHost,
  ): Promise<T | typeof SKIPPED> {
    return this.runner.run({ phase: this.phase, step, host, role: this.hosts.roleOf(host), skippable: false, run });
  }

  /** A step with its own park options and retry text (e.g. a host whose state is unknown: retry or abort only). */
  step<T>(s: Omit<StepSpec<T>, 'phase'>): Promise<T | typeof SKIPPED> {
    return this.runner.run({ ...s, phase: this.phase });
  }
}
