// A phase is data: what it is called, the gate it may wait at, what it would do given the facts
// (a pure plan), and how it runs. Models: kubeadm's phase runner
// (cmd/kubeadm/app/cmd/phases/workflow/runner.go: phases as data, RunIf, nested phases, skip) and
// k0sctl's phase manager (phase/manager.go: facts gathered once, ShouldRun, DryRun messages).
import type { Role } from '../../activities/types';
import type { Gate } from '../../config/enums';
import type { HostSpec } from '../../config/types';
import type { PhaseContext } from './context';

/** What a phase would do on one host. */
export interface HostAction {
  host: string;
  role: Role;
  /** In words, as `plan` prints it: "kubeadm init", "reset what an earlier attempt left, then join as a worker". */
  action: string;
}

/** The hosts a phase acts on with the action on each, or why it is skipped. */
export type PhasePlan = { hosts: HostSpec[]; actions: HostAction[] } | { skip: string };

export interface Phase<Facts, State = unknown> {
  /** Stable name: search attributes, the memo, gates and saved histories use it. */
  name: string;
  title: string;
  /** Approval this phase waits for, when the cluster file lists it and the phase has work to do. */
  gate?: Gate;
  /** The phase only reads hosts: a run where only such phases ran changed nothing. */
  readOnly?: boolean;
  /** Pure: from the gathered facts and the cluster file only, never from what an earlier phase's run did. */
  plan(facts: Facts): PhasePlan;
  /** Acts on the planned hosts; a phase that only groups its children has none. */
  run?(ctx: PhaseContext<State>, hosts: HostSpec[]): Promise<void>;
  /** Nested phases, run in order after this one's own run, each with its own plan and gate. */
  children?: Phase<Facts, State>[];
}

export const skip = (reason: string): PhasePlan => ({ skip: reason });
export const isSkipped = (p: PhasePlan): p is { skip: string } => 'skip' in p;

/** Every phase that runs, in run order: children after their parent; a group without a run of its own is left out. */
export function flatten<F, S>(phases: Phase<F, S>[]): Phase<F, S>[] {
  return phases.flatMap((p) => [...(p.run ? [p] : []), ...flatten(p.children ?? [])]);
}
