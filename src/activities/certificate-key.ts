// The certificate key for `kubeadm init --upload-certs`: kubeadm-ha makes one (32 random bytes, hex,
// as `kubeadm certs certificate-key` prints) and passes it to kubeadm in the 0600 config file, never
// in argv. It lives in a 0600 file on the first control plane from the first upload until the
// control planes have joined (removeCertificateKey); the workflow only learns when the certificates
// were uploaded with it.
//
// The file is made (when missing) and removed under the host lock, the lock journaled steps hold
// while their command runs: it never changes under a running init or upload, and attempts of one
// step that run at once (a retry beside an attempt that is still running) read the same key, so the
// config kubeadm reads, whichever attempt put it in place, holds the key this file keeps. It is read
// from the host at each use, never kept in a worker's memory: after a removal, the next upload
// makes a new key, which another worker's memory would not know.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { HostSpec, SshSpec } from '../config/types';
import { shellQuote } from '../common/shell-quote';
import { CERTIFICATE_KEY_FILE, INIT_CONFIG } from '../kubeadm/paths';
import { CERT_KEY_RE } from '../kubeadm/validate';
import { RemoteFileError } from '../ssh/errors';
import { HOST_LOCK } from '../ssh/journal';
import type { HostSession } from '../ssh/types';
import { tail, withSessions } from './host-context';

// Args: HOST_LOCK KEY_FILE; the key to keep if the file holds none comes on stdin, the key kept is
// printed. A valid key is read without waiting for the lock (only a removal, under the lock, changes
// it then): a retry beside a running init does not wait for the init's end to learn it.
const ENSURE = `key() { k=$(cat -- "$2" 2>/dev/null); case $k in *[!a-f0-9]*) k= ;; esac; [ \${#k} -eq 64 ]; }
key "$@" && { printf '%s\\n' "$k"; exit 0; }
umask 077; mkdir -p -- "\${1%/*}" "\${2%/*}" || exit 1; exec 9>>"$1"; flock -x 9 || exit 1
key "$@" || { cat >"$2.$$.tmp" && mv -f -- "$2.$$.tmp" "$2" || { rm -f -- "$2.$$.tmp"; exit 1; }; }
cat -- "$2"`;

// Args: HOST_LOCK KEY_FILE INIT_CONFIG. The key file goes, and the init config if it holds a key
// (as kubeadm-ha kept it before it removed that file after the init). Exit 0: removed, 3: there was none.
const REMOVE = `[ -e "$2" ] || grep -qs '^ *certificateKey:' "$3" || exit 3
exec 9>>"$1"; flock -x 9 || exit 1
r=3; [ -e "$2" ] && rm -f -- "$2" && r=0
grep -qs '^ *certificateKey:' "$3" && rm -f -- "$3" && r=0
exit $r`;

const script = (text: string) =>
  `sh -c ${shellQuote(text)} kha-certificate-key ${[HOST_LOCK, CERTIFICATE_KEY_FILE, INIT_CONFIG].map(shellQuote).join(' ')}`;

/** The key on this control plane, made and stored there if it has none (in an activity). */
export async function ensureCertificateKey(session: HostSession): Promise<string> {
  // Not remote.run: the key comes back on stdout, which must not reach the log. The wait for the host
  // lock ends with the activity's cancellation.
  const r = await session.run(script(ENSURE), {
    stdin: randomBytes(32).toString('hex'),
    signal: Context.current().cancellationSignal,
  });
  const key = r.stdout.trim();
  if (r.exitCode !== 0 || !CERT_KEY_RE.test(key))
    throw ApplicationFailure.retryable(
      `${session.target.name}: could not keep a certificate key in ${CERTIFICATE_KEY_FILE} (exit ${r.exitCode ?? 'unknown'}): ${tail(r.stderr, 300)}`,
      'CommandFailed',
    );
  return key;
}

/** Removes the key from the control plane (in an activity); false when it had none. */
export async function removeCertificateKeyFile(session: HostSession): Promise<boolean> {
  const r = await session.run(script(REMOVE), { signal: Context.current().cancellationSignal });
  if (r.exitCode === 0 || r.exitCode === 3) return r.exitCode === 0;
  throw ApplicationFailure.retryable(
    `${session.target.name}: removing ${CERTIFICATE_KEY_FILE} failed (exit ${r.exitCode ?? 'unknown'}): ${tail(r.stderr, 300)}`,
    'CommandFailed',
  );
}

/** The key kept on `cp`, for a control-plane join. */
export async function certificateKey(ssh: SshSpec, cp: HostSpec): Promise<string> {
  return withSessions(ssh, [cp], async (remote) => {
    const key = await remote.session.readFile(CERTIFICATE_KEY_FILE).then(
      (b) => b.toString('utf8').trim(),
      (err: unknown) => {
        if (err instanceof RemoteFileError && err.code === 'ENOENT') return '';
        throw err;
      },
    );
    if (!CERT_KEY_RE.test(key)) {
      throw ApplicationFailure.nonRetryable(
        `${cp.name}: ${CERTIFICATE_KEY_FILE} holds no certificate key (it is removed once the control planes have joined); upload the certificates again before this join`,
        'KubeadmMissingSharedCerts',
      );
    }
    return key;
  });
}
