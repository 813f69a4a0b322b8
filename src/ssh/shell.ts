// Remote shell snippets. Every run() is wrapped so the command lives in its own process group
// with a pidfile: OpenSSH 9.2 ignores signal() for root logins and after stdin EOF, and closing a
// non-pty channel leaves the process running, so killing the group is the only reliable abort.

import { shellQuote } from '../common/shell-quote';

export { shellQuote };

/** Remote pidfile path for one command; random, so it cannot be guessed or collide. */
export function pidfilePath(id: string): string {
  return `/tmp/kha-run-${id}.pid`;
}

// Runs as: sh -c OUTER kha PIDFILE COMMAND. `setsid -w` gives the command a new session/process
// group (it only forks when already a group leader, and -w then passes the exit code through).
// The user command runs under bash when present, like a normal login exec would.
const INNER =
  'echo $$ >"$1" || exit 125; ' + 'if command -v bash >/dev/null 2>&1; then exec bash -c "$2"; fi; exec sh -c "$2"';

// Removes the pidfile, then re-raises common fatal signals so ssh2 reports `signal` (e.g. KILL
// from the OOM killer) instead of 128+N. sudo re-raises its child's signal the same way.
const OUTER =
  `setsid -w sh -c ${shellQuote(INNER)} kha "$1" "$2"; rc=$?; rm -f -- "$1"; ` +
  'case $rc in 129|130|137|141|142|143) kill -$((rc - 128)) $$ ;; esac; exit $rc';

export function wrapCommand(command: string, pidfile: string, sudo: boolean): string {
  return `${sudo ? 'sudo -n ' : ''}sh -c ${shellQuote(OUTER)} kha ${shellQuote(pidfile)} ${shellQuote(command)}`;
}

// Waits up to 2 s for the pidfile (abort may race the command's start), TERMs the group, waits
// up to 2 s for it to go, then KILLs it. "Alive" ignores zombies (read from /proc): where PID 1
// does not reap orphans (containers), kill -0 would see zombies and always wait the full 2 s.
// Exit 3 = no pidfile appeared (the command never started or had already finished).
const KILL =
  'pf=$1; i=0; while [ ! -s "$pf" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; ' +
  'pg=$(cat "$pf" 2>/dev/null); case $pg in ""|*[!0-9]*) exit 3;; esac; ' +
  'alive() { for f in /proc/[0-9]*/stat; do read -r l <"$f" 2>/dev/null || continue; ' +
  'set -- ${l##*") "}; [ "$3" = "$pg" ] && [ "$1" != Z ] && return 0; done; return 1; }; ' +
  'kill -TERM -$pg 2>/dev/null || { rm -f -- "$pf"; exit 0; }; ' +
  'i=0; while alive && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; ' +
  'kill -KILL -$pg 2>/dev/null; rm -f -- "$pf"; exit 0';

export function killCommand(pidfile: string, sudo: boolean): string {
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
