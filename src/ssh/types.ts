// What a session to one host is, what it runs and what it answers: the types the session, its
// connection (./connect), its file transfer (./files) and its target (./target) share. Kept apart
// from ./session so those modules need not import the session that imports them.
import type { ChannelOutcome } from './exec';
import type { KnownHostEntry } from './known-hosts';

export interface SshTarget {
  name: string;
  host: string;
  port: number;
  user: string;
  privateKey: Buffer;
  knownHostsFile: string;
  knownHosts: KnownHostEntry[];
  /** Default 'strict': unknown hosts are refused; 'accept-new' records them in knownHostsFile. A changed key is always refused. */
  hostKeyPolicy?: 'strict' | 'accept-new';
  /** Forward the worker's ssh-agent (SSH_AUTH_SOCK) on every command channel (ssh -A). */
  forwardAgent?: boolean;
  /** Reached through this bastion (ssh -J): its key checked against the same file and policy. */
  jump?: SshTarget;
}

export interface RunOptions {
  /** Default true: a non-root login runs the command via `sudo -n`; root runs it directly. */
  sudo?: boolean;
  /** Secrets travel here, never in the command string. EOF is always sent. */
  stdin?: string | Buffer;
  /** Abort kills the remote process group (sudo children included), then rejects with kind 'aborted'. */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Raw streamed output; callers must redact before logging. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
  /** Capture cap per stream, default 256 KiB. */
  maxBytes?: number;
}

export interface RunResult {
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export interface HostSession {
  readonly target: SshTarget;
  readonly isRoot: boolean;
  /** False once the connection is lost or closed: every command on it would fail. */
  readonly usable: boolean;
  run(command: string, opts?: RunOptions): Promise<RunResult>;
  readFile(path: string, opts?: { sudo?: boolean }): Promise<Buffer>;
  writeFile(
    path: string,
    content: string | Buffer,
    opts: { mode: number; owner?: string; group?: string; mkdirMode?: number },
  ): Promise<void>;
  close(): Promise<void>;
}

export interface RawRunResult extends Omit<ChannelOutcome, 'code'> {
  exitCode: number | null;
}
