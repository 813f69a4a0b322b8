// Public surface of the SSH layer.
export { openSession, loadTarget, shellQuote } from './session';
export type { SshTarget, RunOptions, RunResult, HostSession } from './session';
export { SshError, RemoteFileError } from './errors';
export type { SshErrorKind } from './errors';
export { parseKnownHosts, hostKeyVerifier } from './known-hosts';
export type { KnownHostEntry } from './known-hosts';
