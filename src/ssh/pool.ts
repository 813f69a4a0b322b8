// SSH connections shared by the activities of one worker. Nearly every activity visits the first
// control plane (join tokens, the certificate key, kubectl), and a login per activity costs a
// handshake each and, at scale, sshd's MaxStartups throttling. One HostSession already multiplexes
// its commands over several channels, so concurrent activities lease the same connection.
import { createHash } from 'node:crypto';
import { refOf, type ConnectOptions } from './connect';
import { SshError, type HostRef } from './errors';
import { hostKeyVerifier } from './known-hosts';
import { Lease, type SessionLease } from './lease';
import { openSession } from './session';
import { type ConnectRetry, DEFAULT_CONNECT_RETRY, openWithin } from './reconnect';
import type { HostSession, SshTarget } from './types';

export type { SessionLease } from './lease';

export type SessionOpener = (target: SshTarget, opts: ConnectOptions) => Promise<HostSession>;

export interface SessionPoolOptions {
  /** Leases sharing one connection; default 8, the session's command channels (more would only queue). */
  leasesPerConnection?: number;
  /** Connections to one address and port, whatever the user or key; default 4. Beyond it, lease() waits. */
  connectionsPerHost?: number;
  /** A connection nobody leases is closed after this long; default 30 s. */
  idleMs?: number;
  /**
   * Unleased connections kept open across all hosts; default 16. Beyond it the longest idle is
   * closed: a fleet's workers, visited once per phase, must not hold hundreds of idle connections
   * (worker memory, sshd processes), while the first control plane, visited all the time, stays open.
   */
  maxIdle?: number;
  /** Opens one connection: openSession, unless a test injects another. */
  open?: SessionOpener;
  /** How long a connect that finds nobody answering is tried again before it fails for good (reconnect.ts). */
  connectRetry?: ConnectRetry;
}

interface Connection {
  readonly key: string;
  readonly address: string;
  readonly opened: Promise<HostSession>;
  readonly connecting: AbortController;
  session?: HostSession;
  leases: number;
  retired: boolean;
  idle?: NodeJS.Timeout;
  closed?: Promise<void>;
}

export class SessionPool {
  private readonly leasesPerConnection: number;
  private readonly connectionsPerHost: number;
  private readonly idleMs: number;
  private readonly maxIdle: number;
  private readonly open: SessionOpener;
  private readonly connectRetry: ConnectRetry;
  /** Unleased open connections, longest idle first. */
  private idleOrder: Connection[] = [];
  /** The connections new leases may get, by address. */
  private readonly leasable = new Map<string, Connection[]>();
  /** Every connection not closed yet, retired ones still leased included. */
  private readonly unclosed = new Set<Connection>();
  private readonly changes = new Map<string, { promise: Promise<void>; resolve: () => void }>();

  constructor(opts: SessionPoolOptions = {}) {
    this.leasesPerConnection = atLeastOne('leasesPerConnection', opts.leasesPerConnection ?? 8);
    this.connectionsPerHost = atLeastOne('connectionsPerHost', opts.connectionsPerHost ?? 4);
    this.idleMs = opts.idleMs ?? 30_000;
    if (!(this.idleMs >= 0)) throw new Error(`SessionPool idleMs must be 0 or more, got ${this.idleMs}`);
    this.maxIdle = opts.maxIdle ?? 16;
    if (!Number.isInteger(this.maxIdle) || this.maxIdle < 0)
      throw new Error(`SessionPool maxIdle must be a whole number, 0 or more, got ${this.maxIdle}`);
    this.open = opts.open ?? openSession;
    this.connectRetry = opts.connectRetry ?? DEFAULT_CONNECT_RETRY;
  }

  /** A session to `target`: a pooled connection with a free lease, a new one, or the next one freed. */
  async lease(target: SshTarget, opts: { signal?: AbortSignal } = {}): Promise<SessionLease> {
    const key = connectionKey(target);
    const address = `${target.host}:${target.port}`;
    const ref = refOf(target);
    for (;;) {
      if (opts.signal?.aborted) throw new SshError('aborted', ref, 'aborted while waiting for an SSH connection');
      const conns = this.live(address);
      const conn =
        conns.find((c) => c.key === key && c.leases < this.leasesPerConnection) ??
        (conns.length < this.connectionsPerHost ? this.connect(target, key, address) : undefined);
      if (conn) return this.take(conn, ref, opts.signal);
      // At the bound: an unleased connection of another key (a user, key or known_hosts no longer asked for) makes room.
      const unleased = conns.find((c) => c.leases === 0);
      if (unleased) void this.retire(unleased);
      else
        await orAbort(
          this.nextChange(address),
          opts.signal,
          ref,
          `waiting for one of the ${this.connectionsPerHost} SSH connections to this host`,
        );
    }
  }

  /** Closes every connection, leased or not (worker shutdown, tests); later leases open new ones. */
  async closeAll(): Promise<void> {
    const all = [...this.unclosed];
    for (const c of all) void this.retire(c);
    await Promise.all(all.map((c) => this.shut(c)));
  }

  /** The address's leasable connections, after retiring the lost ones. */
  private live(address: string): Connection[] {
    for (const c of [...(this.leasable.get(address) ?? [])]) if (c.session && !c.session.usable) void this.retire(c);
    return this.leasable.get(address) ?? [];
  }

  private connect(target: SshTarget, key: string, address: string): Connection {
    const connecting = new AbortController();
    const conn: Connection = {
      key,
      address,
      connecting,
      leases: 0,
      retired: false,
      // Leases of this address wait for this one connect, its tries again included.
      opened: openWithin(this.open, target, { signal: connecting.signal }, this.connectRetry).then((s) => {
        conn.session = s;
        return s;
      }),
    };
    conn.opened.catch(() => this.retire(conn)); // its leases get the error
    this.leasable.set(address, [...(this.leasable.get(address) ?? []), conn]);
    this.unclosed.add(conn);
    return conn;
  }

  private async take(conn: Connection, ref: HostRef, signal: AbortSignal | undefined): Promise<SessionLease> {
    conn.leases++;
    this.notIdle(conn);
    try {
      const session = await orAbort(conn.opened, signal, ref, 'SSH connect');
      return new Lease(
        session,
        () => this.release(conn),
        () => this.retire(conn),
      );
    } catch (err) {
      void this.release(conn);
      throw err;
    }
  }

  private release(conn: Connection): Promise<void> {
    conn.leases--;
    this.notify(conn.address);
    if (conn.leases > 0) return Promise.resolve();
    // Nobody waits for a connect still under way: give it up.
    if (conn.retired || !conn.session) return this.retire(conn);
    conn.idle = setTimeout(() => void this.retire(conn), this.idleMs).unref();
    this.idleOrder.push(conn);
    while (this.idleOrder.length > this.maxIdle) void this.retire(this.idleOrder[0]);
    return Promise.resolve();
  }

  /** Never leased again; closed now if unleased, else when its last lease is handed back. */
  private retire(conn: Connection): Promise<void> {
    if (!conn.retired) {
      conn.retired = true;
      this.notIdle(conn);
      const rest = (this.leasable.get(conn.address) ?? []).filter((c) => c !== conn);
      if (rest.length) this.leasable.set(conn.address, rest);
      else this.leasable.delete(conn.address);
      this.notify(conn.address);
    }
    return conn.leases === 0 ? this.shut(conn) : Promise.resolve();
  }

  private notIdle(conn: Connection): void {
    clearTimeout(conn.idle);
    this.idleOrder = this.idleOrder.filter((c) => c !== conn);
  }

  private shut(conn: Connection): Promise<void> {
    conn.connecting.abort();
    conn.closed ??= conn.opened
      .then(
        (s) => s.close(),
        () => undefined,
      )
      .catch(() => undefined)
      .finally(() => this.unclosed.delete(conn));
    return conn.closed;
  }

  /** Settles at the next lease handed back or connection retired for `address`. */
  private nextChange(address: string): Promise<void> {
    let change = this.changes.get(address);
    if (!change) {
      let resolve!: () => void;
      change = {
        promise: new Promise<void>((r) => {
          resolve = r;
        }),
        resolve,
      };
      this.changes.set(address, change);
    }
    return change.promise;
  }

  private notify(address: string): void {
    this.changes.get(address)?.resolve();
    this.changes.delete(address);
  }
}

/** What decides what a connection is and whom it trusts: a changed key, known_hosts entry or policy gives a new one. */
function connectionKey(t: SshTarget): string {
  return JSON.stringify(identity(t));
}

function identity(t: SshTarget): unknown[] {
  // Only this host's entries: they are all its key is checked against. The name is what errors on it say.
  const pinned = hostKeyVerifier(t.knownHosts, t.host, t.port)
    .entries.map((e) => `${e.keyType} ${e.key.toString('base64')}`)
    .sort();
  return [
    t.name,
    t.host,
    t.port,
    t.user,
    sha256(t.privateKey),
    t.knownHostsFile,
    t.hostKeyPolicy ?? 'strict',
    sha256(pinned.join('\n')),
    t.forwardAgent === true,
    t.jump ? identity(t.jump) : null,
  ];
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function atLeastOne(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`SessionPool ${name} must be a whole number of at least 1, got ${n}`);
  return n;
}

/** Waits for `p`, or rejects as 'aborted', naming the host, when `signal` fires first. */
function orAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, ref: HostRef, what: string): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new SshError('aborted', ref, `${what} aborted`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new SshError('aborted', ref, `${what} aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

let processPool = new SessionPool();

/** The pool every activity of this process leases from. */
export function sessionPool(): SessionPool {
  return processPool;
}

/** Makes `pool` the process pool (tests); returns the one it replaces, which is not closed. */
export function useSessionPool(pool: SessionPool): SessionPool {
  const replaced = processPool;
  processPool = pool;
  return replaced;
}
