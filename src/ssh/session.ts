// One SSH connection to one host, used by activities to run commands and move files.
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { SshError, type HostRef } from './errors';
import { connectClient, refOf, type ConnectOptions } from './connect';
import { AgentForwardRefusedError, ChannelOpenError, drain, openExec, type ChannelOutcome } from './exec';
import { Semaphore } from './semaphore';
import { killCommand, pidfileName, wrapCommand } from './shell';
import { linkAbort, type LinkedAbort } from './abort';
import { readFileOp, writeFileOp } from './files';
import type { HostSession, RawRunResult, RunOptions, RunResult, SshTarget } from './types';

// MaxSessions is 10 by default: 8 command channels + 1 SFTP + 1 for kill commands.
const RUN_CHANNELS = 8;
const SUDO_REFUSED =
  /^sudo: (a password is required|a terminal is required|sorry, you must have a tty|.*not in the sudoers|.*is not allowed to|.*may not run sudo)/m;

export async function openSession(target: SshTarget, opts: ConnectOptions = {}): Promise<HostSession> {
  return new Session(target, await connectClient(target, opts));
}

class Session implements HostSession {
  readonly isRoot: boolean;
  readonly ref: HostRef;
  private lostReason: string | undefined;
  private readonly lost: Promise<void>;
  private readonly runSem = new Semaphore(RUN_CHANNELS);
  private readonly killSem = new Semaphore(1);
  private sftpP: Promise<SFTPWrapper> | undefined;

  constructor(
    readonly target: SshTarget,
    private readonly client: Client,
  ) {
    this.isRoot = target.user === 'root';
    this.ref = refOf(target);
    let markLost!: () => void;
    this.lost = new Promise((r) => {
      markLost = r;
    });
    // Permanent listeners: a keepalive timeout or reset must never crash the worker.
    client.on('error', (err) => {
      this.lostReason ??= err.message;
      markLost();
    });
    client.on('close', () => {
      this.lostReason ??= 'connection closed';
      markLost();
    });
  }

  get usable(): boolean {
    return this.lostReason === undefined;
  }

  async run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.runRaw(command, opts);
    return {
      exitCode: r.exitCode,
      ...(r.signal ? { signal: r.signal } : {}),
      stdout: r.stdout.toString('utf8'),
      stderr: r.stderr.toString('utf8'),
      truncated: r.truncated,
    };
  }

  readFile(path: string, opts: { sudo?: boolean } = {}): Promise<Buffer> {
    return readFileOp(this, path, opts);
  }

  writeFile(
    path: string,
    content: string | Buffer,
    opts: { mode: number; owner?: string; group?: string; mkdirMode?: number },
  ): Promise<void> {
    return writeFileOp(this, path, content, opts);
  }

  async close(): Promise<void> {
    this.lostReason ??= 'session closed';
    const sftp = this.sftpP;
    this.sftpP = undefined;
    if (sftp)
      await sftp.then(
        (s) => s.end(),
        () => undefined,
      );
    this.client.end();
    const timer = setTimeout(() => this.client.destroy(), 2000);
    await this.lost;
    clearTimeout(timer);
  }

  /** Runs `command` wrapped in its own process group; output as Buffers. */
  async runRaw(command: string, opts: RunOptions): Promise<RawRunResult> {
    const sudo = (opts.sudo ?? true) && !this.isRoot;
    const abort = linkAbort(opts.signal, opts.timeoutMs);
    try {
      this.assertAlive();
      let release: () => void;
      try {
        release = await this.runSem.acquire(abort.signal);
      } catch {
        throw this.abortedError(abort, 'before the command started');
      }
      const pidfile = pidfileName(randomBytes(8).toString('hex'));
      let stream: ClientChannel;
      try {
        stream = await openExec(this.client, wrapCommand(command, pidfile, sudo));
      } catch (err) {
        release();
        throw this.channelError(err);
      }
      stream.once('close', release); // the permit is free only once the channel really is
      const done = drain(stream, { stdin: opts.stdin, maxBytes: opts.maxBytes ?? 256 * 1024, onOutput: opts.onOutput });
      const first = await Promise.race([
        done,
        abort.aborted.then(() => 'abort' as const),
        this.lost.then(() => 'lost' as const),
      ]);
      if (first === 'abort') throw await this.abortRemote(stream, done, pidfile, sudo, abort);
      if (first === 'lost' || first.code === undefined) {
        if (this.lostReason !== undefined)
          throw new SshError(
            'connection-lost',
            this.ref,
            `connection lost while a command was running (${this.lostReason}); the remote outcome is unknown`,
          );
        if (first !== 'lost') return { ...first, exitCode: null };
        throw new SshError(
          'connection-lost',
          this.ref,
          'connection lost while a command was running; the remote outcome is unknown',
        );
      }
      // No separate `sudo -n true` round trip: sudo refusing exits 1 with its own message before
      // running anything, and every command under it runs as root, so no inner sudo prints one.
      if (sudo && first.code === 1 && SUDO_REFUSED.test(first.stderr.toString('utf8')))
        throw this.sudoError(first.stderr.toString('utf8'));
      return { ...first, exitCode: first.code };
    } finally {
      abort.dispose();
    }
  }

  sftp(): Promise<SFTPWrapper> {
    this.assertAlive();
    this.sftpP ??= new Promise<SFTPWrapper>((resolve, reject) => {
      try {
        this.client.sftp((err, s) => (err ? reject(err) : resolve(s)));
      } catch (err) {
        reject(err);
      }
    }).catch((err) => {
      this.sftpP = undefined;
      throw this.channelError(err);
    });
    return this.sftpP;
  }

  private assertAlive(): void {
    if (this.lostReason !== undefined)
      throw new SshError('connection-lost', this.ref, `session is not usable (${this.lostReason}); open a new session`);
  }

  private channelError(err: unknown): SshError {
    if (err instanceof SshError) return err;
    if (err instanceof AgentForwardRefusedError) {
      return new SshError(
        'channel-open-failed',
        this.ref,
        `the server refused agent forwarding (${err.message}); allow it in sshd_config (AllowAgentForwarding yes) or turn ssh.forwardAgent off`,
        { retryable: false },
      );
    }
    if (err instanceof ChannelOpenError) {
      return new SshError(
        'channel-open-failed',
        this.ref,
        `the server refused a new channel (${err.message}); too many sessions on this connection (sshd MaxSessions)`,
      );
    }
    return new SshError(
      'connection-lost',
      this.ref,
      `connection unusable (${this.lostReason ?? (err as Error).message})`,
    );
  }

  private abortedError(abort: LinkedAbort, detail: string): SshError {
    return new SshError('aborted', this.ref, `command ${abort.reason() || 'aborted'} ${detail}`);
  }

  private sudoError(stderr: string): SshError {
    return new SshError(
      'sudo-failed',
      this.ref,
      `user ${this.target.user} cannot run sudo without a password (${stderr.trim().split('\n')[0]}); grant NOPASSWD sudo via /etc/sudoers.d or log in as root`,
    );
  }

  /** Kills the remote process group via a second channel, then builds the 'aborted' error. */
  private async abortRemote(
    stream: ClientChannel,
    done: Promise<ChannelOutcome>,
    pidfile: string,
    sudo: boolean,
    abort: LinkedAbort,
  ): Promise<SshError> {
    let killed = false;
    const release = await this.killSem.acquire();
    try {
      const out = await drain(await openExec(this.client, killCommand(pidfile, sudo)), { maxBytes: 4096 });
      killed = out.code === 0;
    } catch {
      /* connection gone: nothing more we can do from here */
    } finally {
      release();
    }
    // The killed command's wrapper exits right after; give its channel a moment to close.
    const closed = await Promise.race([
      done.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 3000).unref()),
    ]);
    if (!closed) stream.close();
    return new SshError(
      'aborted',
      this.ref,
      killed
        ? `command ${abort.reason()}; its remote process group was killed`
        : `command ${abort.reason()}; the remote process could not be confirmed killed (it may not have started, or may still be running)`,
    );
  }
}
