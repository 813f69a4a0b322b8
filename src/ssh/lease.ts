// One activity's share of a pooled SSH connection (see pool.ts).
import { SshError } from './errors';
import type { HostSession, RunOptions, SshTarget } from './types';

/** A HostSession on a pooled connection: close() hands the connection back, it stays open. */
export interface SessionLease extends HostSession {
  /** Hands the connection back and retires it: never leased again, closed once no lease uses it. */
  discard(): Promise<void>;
}

export class Lease implements SessionLease {
  private released = false;

  constructor(
    private readonly session: HostSession,
    private readonly handBack: () => Promise<void>,
    private readonly retire: () => Promise<void>,
  ) {}

  get target(): SshTarget {
    return this.session.target;
  }
  get isRoot(): boolean {
    return this.session.isRoot;
  }
  get usable(): boolean {
    return !this.released && this.session.usable;
  }

  run(command: string, opts?: RunOptions) {
    return this.use(() => this.session.run(command, opts));
  }
  readFile(path: string, opts?: { sudo?: boolean }) {
    return this.use(() => this.session.readFile(path, opts));
  }
  writeFile(
    path: string,
    content: string | Buffer,
    opts: { mode: number; owner?: string; group?: string; mkdirMode?: number },
  ) {
    return this.use(() => this.session.writeFile(path, content, opts));
  }

  close(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return this.handBack();
  }

  discard(): Promise<void> {
    if (this.released) return Promise.resolve();
    void this.retire();
    return this.close();
  }

  private async use<T>(op: () => Promise<T>): Promise<T> {
    if (this.released) {
      const t = this.session.target;
      throw new Error(
        `host ${t.name} (${t.host}:${t.port}): SSH session used after close() handed its connection back to the pool`,
      );
    }
    try {
      return await op();
    } catch (err) {
      // A retry must get a fresh connection, not this one again.
      if (err instanceof SshError && err.kind === 'connection-lost') void this.retire();
      throw err;
    }
  }
}
