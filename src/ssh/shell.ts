// Remote shell snippets. Every run() is wrapped so the command lives in its own process group
// with a pidfile: OpenSSH 9.2 ignores signal() for root logins and after stdin EOF, and closing a
// non-pty channel leaves the process running, so killing the group is the only reliable abort.

import { shellQuote } from '../common/shell-quote';

export { shellQuote };

/** A command's pidfile name, random so it cannot be guessed or collide; its folder is RUN_DIR's. */
export function pidfileName(id: string): string {
  return `kha-run-${id}`;
}

// The pidfiles' folder, private to the user the command runs as: root's in /run, anyone else's in
// their home. Never /tmp: a local user could plant a pidfile there holding another process group
// (1: every process) for the abort to kill. Sets pf from the name in $1.
const RUN_DIR =
  'if [ "$(id -u)" = 0 ]; then d=/run/kubeadm-ha; else d="${HOME:-/nonexistent}/.kubeadm-ha/run"; fi; pf="$d/$1.pid"; ';
const PRIVATE_RUN_DIR =
  RUN_DIR +
  '(umask 077 && mkdir -p -- "$d") && [ -O "$d" ] && [ ! -L "$d" ] || ' +
  '{ echo "kubeadm-ha: $d is not a folder of $(id -un) alone" >&2; exit 125; }; ';

// Runs as: sh -c OUTER kha PIDFILE COMMAND. `setsid -w` gives the command a new session/process
// group (it only forks when already a group leader, and -w then passes the exit code through).
// The user command runs under bash when present, like a normal login exec would.
const INNER =
  'echo $$ >"$1" || exit 125; ' + 'if command -v bash >/dev/null 2>&1; then exec bash -c "$2"; fi; exec sh -c "$2"';

// Removes the pidfile, then re-raises common fatal signals so ssh2 reports `signal` (e.g. KILL
// from the OOM killer) instead of 128+N. sudo re-raises its child's signal the same way.
const OUTER =
  PRIVATE_RUN_DIR +
  `setsid -w sh -c ${shellQuote(INNER)} kha "$pf" "$2"; rc=$?; rm -f -- "$pf"; ` +
  'case $rc in 129|130|137|141|142|143) kill -$((rc - 128)) $$ ;; esac; exit $rc';

export function wrapCommand(command: string, pidfile: string, sudo: boolean): string {
  assertPidfileName(pidfile);
  return `${sudo ? 'sudo -n ' : ''}sh -c ${shellQuote(OUTER)} kha ${shellQuote(pidfile)} ${shellQuote(command)}`;
}

// Waits up to 2 s for the pidfile (abort may race the command's start), TERMs the group, waits
// up to 2 s for it to go, then KILLs it. "Alive" ignores zombies (read from /proc): where PID 1
// does not reap orphans (containers), kill -0 would see zombies and always wait the full 2 s.
// Exit 3 = no pidfile appeared (the command never started or had already finished); 4 = the
// pidfile is not ours, or names no process group of a command (1 or less).
const KILL =
  RUN_DIR +
  'i=0; while [ ! -s "$pf" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; ' +
  '[ -e "$pf" ] || exit 3; [ -O "$pf" ] && [ ! -L "$pf" ] || exit 4; ' +
  'pg=$(cat "$pf" 2>/dev/null); case $pg in ""|*[!0-9]*) exit 3;; esac; [ "$pg" -gt 1 ] || exit 4; ' +
  'alive() { for f in /proc/[0-9]*/stat; do read -r l <"$f" 2>/dev/null || continue; ' +
  'set -- ${l##*") "}; [ "$3" = "$pg" ] && [ "$1" != Z ] && return 0; done; return 1; }; ' +
  'kill -TERM -$pg 2>/dev/null || { rm -f -- "$pf"; exit 0; }; ' +
  'i=0; while alive && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; ' +
  'kill -KILL -$pg 2>/dev/null; rm -f -- "$pf"; exit 0';

export function killCommand(pidfile: string, sudo: boolean): string {
  assertPidfileName(pidfile);
  return `${sudo ? 'sudo -n ' : ''}sh -c ${shellQuote(KILL)} kha-kill ${shellQuote(pidfile)}`;
}

// Non-root writeFile: copy the SFTP-uploaded temp file next to the destination with exact
// mode/owner, then rename over it so readers never see a partial file.
// Args: src dst mode owner group umask suffix
const INSTALL =
  'set -e; d=$(dirname -- "$2"); ' +
  'if [ ! -d "$d" ]; then (umask "$6" && mkdir -p -- "$d"); fi; ' +
  't="$d/.$(basename -- "$2").$7.tmp"; trap \'rm -f -- "$t"\' EXIT; ' +
  'install -m "$3" -o "$4" -g "$5" -- "$1" "$t"; mv -f -- "$t" "$2"';

export function installCommand(a: {
  src: string;
  dest: string;
  mode: number;
  owner: string;
  group: string;
  mkdirMode: number;
  suffix: string;
}): string {
  const args = [a.src, a.dest, octal(a.mode), a.owner, a.group, octal(~a.mkdirMode & 0o777), a.suffix];
  return `sudo -n sh -c ${shellQuote(INSTALL)} kha-install ${args.map(shellQuote).join(' ')}`;
}

export function octal(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

function assertPidfileName(name: string): void {
  if (!/^kha-run-[0-9a-f]+$/.test(name)) throw new Error(`not a pidfile name: ${JSON.stringify(name)}`);
}
