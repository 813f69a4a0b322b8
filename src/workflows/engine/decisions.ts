// Every decision an operator takes goes through here: approving or rejecting a gated phase, and
// retrying, skipping or aborting a parked step. Each waiting item has a key (`gate:<phase>` or
// `park:<step>:<host>:<attempt>`); a decision names what it resolves, and the update validators
// refuse one that matches nothing waiting, so a typo never approves or skips the wrong thing.
// Signals (Web UI, `temporal workflow signal`) take the same path and are ignored when they match nothing.
// A step parked in a wave (a child workflow, engine/waves.ts) is offered here like one of the run's
// own, and the decision taken here is relayed to the wave: operators only ever address the run.
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { Gate } from '../../config/enums';
import {
  ApprovalInput,
  approveSignal,
  approveUpdate,
  Decision,
  ParkDecisionInput,
  ParkedStep,
  ParkVerdict,
  RejectionInput,
  rejectSignal,
  rejectUpdate,
  resolveSignal,
  resolveUpdate,
  Verdict,
} from '../../shared/definitions';

interface Request {
  phase: string;
  verdict: Verdict;
  approver: string;
  comment?: string;
}

export class Decisions {
  awaitingGate: Gate | undefined;
  readonly parked = new Map<string, ParkedStep>(); // by host
  readonly taken: Decision[] = [];
  /** Hosts whose park is held in a wave: the wave's id, and how a decision reaches it. */
  private readonly relays = new Map<string, { wave: string; send: (i: ParkDecisionInput) => void }>();

  constructor() {
    const approve = (i: ApprovalInput): Request => ({
      phase: i?.phase,
      verdict: 'approved',
      approver: i?.approver,
      comment: i?.comment,
    });
    const reject = (i: RejectionInput): Request => ({
      phase: i?.phase,
      verdict: 'rejected',
      approver: i?.approver,
      comment: i?.reason,
    });
    setHandler(approveSignal, (i) => this.tryGate(approve(i)));
    setHandler(rejectSignal, (i) => this.tryGate(reject(i)));
    setHandler(resolveSignal, (i) => {
      if (this.parkProblem(i) === undefined) this.resolve(i);
    });
    setHandler(approveUpdate, (i) => this.decideGate(approve(i)), {
      validator: (i) => this.refuse(this.gateProblem(approve(i))),
      description: 'Approve the phase that is waiting: { phase, approver, comment? }',
    });
    setHandler(rejectUpdate, (i) => this.decideGate(reject(i)), {
      validator: (i) => this.refuse(this.gateProblem(reject(i))),
      description: 'Reject the phase that is waiting, which stops the run: { phase, approver, reason? }',
    });
    setHandler(resolveUpdate, (i) => this.resolve(i), {
      validator: (i) => this.refuse(this.parkProblem(i)),
      description: 'Resolve the step parked on a host: { host, action: retry|skip|abort, approver, reason? }',
    });
  }

  /** Waits for an approval or rejection of `phase`. */
  waitForGate(phase: Gate): Promise<Decision> {
    this.awaitingGate = phase;
    // Cleared also when the run is cancelled while waiting.
    return this.waitFor(`gate:${phase}`, () => {
      this.awaitingGate = undefined;
    });
  }

  /** Parks a step until an operator resolves it; as long as needed. */
  park(step: ParkedStep): Promise<Decision> {
    this.parked.set(step.host, step);
    return this.waitFor(step.key, () => this.parked.delete(step.host));
  }

  /**
   * The steps parked in `wave` now, as it reported them: they replace what it reported before. One
   * already decided here is left out (the wave reported before the decision reached it). True when
   * the parked set changed.
   */
  relayParks(wave: string, parked: ParkedStep[], send: (i: ParkDecisionInput) => void): boolean {
    let changed = false;
    for (const [host, r] of this.relays) {
      if (r.wave !== wave || parked.some((p) => p.host === host)) continue;
      this.relays.delete(host);
      this.parked.delete(host);
      changed = true;
    }
    for (const p of parked) {
      if (this.find(p.key) !== undefined || this.parked.get(p.host)?.key === p.key) continue;
      this.parked.set(p.host, p);
      this.relays.set(p.host, { wave, send });
      changed = true;
    }
    return changed;
  }

  private async waitFor(key: string, done: () => void): Promise<Decision> {
    try {
      await condition(() => this.find(key) !== undefined);
    } finally {
      done();
    }
    return this.find(key)!;
  }

  private find(key: string): Decision | undefined {
    return this.taken.find((d) => d.key === key);
  }

  private refuse(problem: string | undefined): void {
    if (problem) throw ApplicationFailure.nonRetryable(problem, 'DecisionRefused');
  }

  private approverProblem(approver: unknown): string | undefined {
    return typeof approver !== 'string' || approver.trim() === '' ? 'an approver name is required' : undefined;
  }

  private gateProblem(r: Request): string | undefined {
    const p = this.approverProblem(r.approver);
    if (p) return p;
    if (this.awaitingGate === undefined) return `no phase is waiting for approval (asked for "${r.phase}")`;
    if (r.phase !== this.awaitingGate)
      return `phase "${r.phase}" is not waiting for approval; "${this.awaitingGate}" is`;
    return undefined;
  }

  private parkProblem(i: ParkDecisionInput): string | undefined {
    const p = this.approverProblem(i?.approver);
    if (p) return p;
    const parked = this.parked.get(i?.host);
    if (!parked) {
      const hosts = [...this.parked.keys()];
      return `nothing is parked on host "${i.host}"${hosts.length ? `; parked: ${hosts.join(', ')}` : ''}`;
    }
    if (!parked.options.includes(i.action)) {
      return (
        `"${i.action}" is not possible for ${parked.step} on ${parked.host}; choose ${parked.options.join(', ')}` +
        (i.action === 'skip' ? ' (only a worker can be skipped: the cluster needs every control plane)' : '')
      );
    }
    return undefined;
  }

  private tryGate(r: Request): void {
    if (this.gateProblem(r) === undefined) this.decideGate(r);
  }

  private decideGate(r: Request): Decision {
    const d = this.record({
      key: `gate:${r.phase}`,
      phase: r.phase,
      verdict: r.verdict,
      approver: r.approver,
      comment: r.comment,
    });
    this.awaitingGate = undefined;
    return d;
  }

  private resolve(i: ParkDecisionInput): Decision {
    const p = this.parked.get(i.host)!;
    const verdict: ParkVerdict = i.action;
    const d = this.record({
      key: p.key,
      phase: p.phase,
      host: p.host,
      step: p.step,
      attempt: p.attempts.length,
      verdict,
      approver: i.approver,
      comment: i.reason,
    });
    this.parked.delete(i.host);
    const relay = this.relays.get(i.host);
    if (relay) {
      this.relays.delete(i.host);
      relay.send(i);
    }
    return d;
  }

  private record(d: Omit<Decision, 'at'>): Decision {
    const decision: Decision = { ...d, approver: d.approver.trim(), at: new Date().toISOString() };
    if (!decision.comment) delete decision.comment;
    this.taken.push(decision);
    return decision;
  }
}
