// The run's progress as the `progress` query returns it. Only the workflow mutates it.
import type { ClusterSpec } from '../config/types';
import type { HostProgress, HostState, Progress, RunStatus } from '../shared/definitions';
import type { ApprovalGates } from './approvals';

type PhaseState = Progress['phases'][number]['state'];

export class RunProgress {
  status: RunStatus = 'running';
  lastError: string | undefined;
  private readonly phases: { name: string; title: string; state: PhaseState }[];
  private readonly hosts: HostProgress[];

  constructor(private readonly spec: ClusterSpec, phases: { name: string; title: string }[], private readonly gates: ApprovalGates) {
    this.phases = phases.map((p) => ({ ...p, state: 'pending' as PhaseState }));
    this.hosts = [
      ...spec.controlPlanes.map((h) => ({ name: h.name, address: h.address, role: 'control-plane' as const, state: 'pending' as HostState })),
      ...spec.workers.map((h) => ({ name: h.name, address: h.address, role: 'worker' as const, state: 'pending' as HostState })),
    ];
  }

  get currentPhase(): string {
    return (this.phases.find((p) => p.state === 'running' || p.state === 'failed') ??
      [...this.phases].reverse().find((p) => p.state === 'done') ?? this.phases[0]).name;
  }

  setPhase(name: string, state: PhaseState): void {
    const phase = this.phases.find((p) => p.name === name);
    if (phase) phase.state = state;
  }

  setHost(name: string, state: HostState, detail?: string): void {
    const host = this.hosts.find((h) => h.name === name);
    if (!host) return;
    host.state = state;
    if (detail === undefined) delete host.detail;
    else host.detail = detail;
  }

  view(): Progress {
    return {
      cluster: this.spec.name,
      status: this.gates.awaiting ? 'awaiting-approval' : this.status,
      phase: this.currentPhase,
      phases: this.phases.map((p) => ({ ...p })),
      ...(this.gates.awaiting ? { awaitingApproval: this.gates.awaiting } : {}),
      decisions: [...this.gates.decisions],
      hosts: this.hosts.map((h) => ({ ...h })),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}
