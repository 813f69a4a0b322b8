// Approval gates: the workflow waits at a gated phase until an operator approves or rejects it.
// Signals serve the Web UI and `temporal workflow signal`; updates serve the CLI, whose validator
// refuses a decision for a phase that is not waiting, so a typo never approves the wrong thing.
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { GatedPhase } from '../config/types';
import {
  ApprovalInput, approveSignal, approveUpdate, Decision, RejectionInput, rejectSignal, rejectUpdate,
} from '../shared/definitions';

export class ApprovalGates {
  awaiting: GatedPhase | undefined;
  readonly decisions: Decision[] = [];

  constructor() {
    setHandler(approveSignal, (input) => {
      if (this.problem(input) === undefined) this.decide(input, 'approved', input.comment);
    });
    setHandler(rejectSignal, (input) => {
      if (this.problem(input) === undefined) this.decide(input, 'rejected', input.reason);
    });
    setHandler(approveUpdate, (input) => this.decide(input, 'approved', input.comment), {
      validator: (input) => this.validate(input),
      description: 'Approve the phase that is waiting: { phase, approver, comment? }',
    });
    setHandler(rejectUpdate, (input) => this.decide(input, 'rejected', input.reason), {
      validator: (input) => this.validate(input),
      description: 'Reject the phase that is waiting, which stops the run: { phase, approver, reason? }',
    });
  }

  /** Waits for a decision on `phase`; returns it (approved or rejected). */
  async waitFor(phase: GatedPhase): Promise<Decision> {
    this.awaiting = phase;
    try {
      await condition(() => this.decisionFor(phase) !== undefined);
    } finally {
      this.awaiting = undefined; // also when the run is cancelled while waiting
    }
    return this.decisionFor(phase)!;
  }

  private decisionFor(phase: GatedPhase): Decision | undefined {
    return this.decisions.find((d) => d.phase === phase);
  }

  private problem(input: ApprovalInput | RejectionInput): string | undefined {
    if (!input || typeof input.approver !== 'string' || input.approver.trim() === '') {
      return 'an approver name is required';
    }
    if (this.awaiting === undefined) return `no phase is waiting for approval (asked for "${input.phase}")`;
    if (input.phase !== this.awaiting) return `phase "${input.phase}" is not waiting for approval; "${this.awaiting}" is`;
    return undefined;
  }

  private validate(input: ApprovalInput | RejectionInput): void {
    const p = this.problem(input);
    if (p) throw ApplicationFailure.nonRetryable(p, 'ApprovalRefused');
  }

  private decide(input: ApprovalInput | RejectionInput, verdict: Decision['verdict'], comment?: string): Decision {
    const decision: Decision = {
      phase: input.phase, verdict, approver: input.approver.trim(),
      ...(comment ? { comment } : {}), at: new Date().toISOString(),
    };
    this.decisions.push(decision);
    this.awaiting = undefined;
    return decision;
  }
}
