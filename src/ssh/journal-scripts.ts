// Remote shell text for journaled steps. Every script runs as root through session.run and gets
// its inputs as positional arguments, never spliced into the script text.
import { sedScript } from '../common/redact';
import { shellQuote } from '../common/shell-quote';

/** Marker line on stderr after which the attach script prints the tail of the output. */
export const END_MARKER = 'KHA-JOURNAL-END';
export const OUTPUT_TAIL_BYTES = 256 * 1024;

// Streaming redaction applied on the host, so secrets never reach the journal or the worker:
// GNU sed, run with LC_ALL=C so arbitrary bytes pass through, line by line (sed -u). The program is
// generated from the rule table in src/common/redact.ts, the same table the worker-side redact()
// uses, so both mask the same things (test/ssh/redact.test.ts runs both on the same fixtures).
export const REDACT_SED = sedScript();

// Shared by all scripts. Args: JOURNAL_DIR HOST_LOCK ID. "Alive" reads /proc and ignores zombies
// (PID 1 may not reap orphans, so kill -0 would call a dead runner alive); the runner is also
// identified by its $0, which names its entry folder, so a reused pid is never taken for it.
const PRELUDE = `
J=$1; LOCK=$2; id=$3; d=$1/$3; shift 3
ralive() { p=$1; e=$2; read -r l <"/proc/$p/stat" 2>/dev/null || return 1
  set -- \${l##*") "}; [ "$1" != Z ] && grep -qzxF -- "kha-journal-runner:$e" "/proc/$p/cmdline" 2>/dev/null; }
galive() { for f in /proc/[0-9]*/stat; do read -r l <"$f" 2>/dev/null || continue
  set -- \${l##*") "}; [ "$3" = "$pg" ] && [ "$1" != Z ] && return 0; done; return 1; }
# The claiming runner writes pid right after its mkdir; a cancel tombstone has rc and no pid.
waitpid() { i=0; while [ ! -s "$d/pid" ] && [ ! -e "$d/rc" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  pg=$(cat "$d/pid" 2>/dev/null); }
rmafter() { [ -f "$d/remove" ] || return 0; while IFS= read -r f; do [ -n "$f" ] && rm -f -- "$f"; done <"$d/remove"; }
stamp() { date -u +%Y-%m-%dT%H:%M:%SZ >"$d/$1"; }
setrc() { printf '%s\\n' "$1" >"$d/rc.tmp" && mv -f -- "$d/rc.tmp" "$d/rc"; }
`;

// Deletes entries untouched for 30 days unless their runner still lives.
const HOUSEKEEP = `
for old in $(find "$J" -mindepth 1 -maxdepth 1 -type d -mtime +30 2>/dev/null); do
  [ -e "$old/rc" ] || ! ralive "$(cat "$old/pid" 2>/dev/null)" "$old" && rm -rf -- "$old"
done
`;

// Detached runner. Args after the prelude: NONCE SED STAGED INPUT COMMAND HAS_GUARD GUARD REMOVE...
// It claims the id itself, so claim and pid are written by one process with no gap in which a
// killed SSH exec could leave a claimed folder without a runner.
const RUNNER = `${PRELUDE}
nonce=$1; sedp=$2; staged=$3; input=$4; cmd=$5; hg=$6; guard=$7; shift 7
um=$(umask); umask 077
mkdir -- "$d" 2>/dev/null || exit 0
echo "$nonce" >"$d/claim"
: >"$d/out"
echo $$ >"$d/pid.tmp" && mv -f -- "$d/pid.tmp" "$d/pid"
printf '%s\\n' "$cmd" >"$d/cmd"
# The staged input is removed with the step's files, whatever becomes of the step.
[ -z "$staged" ] || set -- "$@" "$staged"
[ $# -eq 0 ] || printf '%s\\n' "$@" >"$d/remove"
${HOUSEKEEP}
cd /
SH=sh; command -v bash >/dev/null 2>&1 && SH=bash
# The runner shell holds the host lock for the command's whole life; fd 9 is closed for the
# command itself so daemons it starts never inherit the lock.
exec 9>>"$LOCK"; flock -x 9 || exit 1
[ -e "$d/rc" ] && { rmafter; exit 0; }
stamp started
if [ "$hg" = 1 ] && (umask "$um"; exec $SH -c "$guard" kha-guard) </dev/null >/dev/null 2>&1 9>&-; then
  rc=already-done
# The input is put in place here, under the host lock, by the runner that claimed the step: no
# other attempt's input and no other step's command can come between this and the command's read.
elif [ -n "$staged" ] && ! mv -f -- "$staged" "$input"; then
  rc=input-unwritable
else
  # No pipefail in sh: the left side records the command's own exit code.
  { umask "$um"; $SH -c "$cmd" kha-step 2>&1; echo $? >"$d/code"; } </dev/null 9>&- |
    LC_ALL=C sed -u -E "$sedp" >>"$d/out" 9>&-
  rc=$(cat "$d/code" 2>/dev/null); rm -f -- "$d/code"
  [ -n "$rc" ] || exit 1
fi
rmafter
stamp finished
setrc "$rc"
`;

// Start-or-attach. Args after the prelude: NONCE FROM_OFFSET RUNNER SED INPUT COMMAND HAS_GUARD GUARD REMOVE...
// An unclaimed step first stages its INPUT file (when not empty) from stdin, 0600 under a 0700
// folder, next to INPUT under a name of this attempt's own, so a step that needs a secret file
// costs this one exec; the runner that claims the step puts it in place under the host lock, and
// an attempt that lost the claim removes its copy. Streams new bytes of out to stdout every 0.2 s
// until rc exists or the runner is gone, then prints "MARKER state rc size claimed" and the
// output tail on stderr.
const ATTACH = `${PRELUDE}
nonce=$1; off=$2; runner=$3; sedp=$4; input=$5; shift 5; staged=
end() { printf '${END_MARKER} %s %s %s %s\\n' "$1" "$2" "$3" "$4" >&2; }
if [ ! -d "$d" ]; then
  # Prove the host can redact before anything is claimed.
  t=$(printf 'x abcdef.0123456789abcdef\\n' | LC_ALL=C sed -u -E "$sedp" 2>/dev/null)
  command -v setsid >/dev/null && command -v flock >/dev/null && [ "$t" = 'x ***' ] || { end unsupported - 0 0; exit 0; }
  [ -d "$J" ] || (umask 077 && mkdir -p -- "$J")
  if [ -n "$input" ]; then
    staged="$input.$nonce.tmp"
    (umask 077 && mkdir -p -- "\${input%/*}" && cat >"$staged") || { rm -f -- "$staged"; end input-unwritable - 0 0; exit 0; }
  fi
  setsid -f sh -c "$runner" "kha-journal-runner:$d" "$J" "$LOCK" "$id" "$nonce" "$sedp" "$staged" "$input" "$@" </dev/null >/dev/null 2>&1
fi
waitpid
claimed=0; [ "$(cat "$d/claim" 2>/dev/null)" = "$nonce" ] && claimed=1
# Another attempt claimed the step (or it never started): this attempt's staged input is nobody's.
[ -z "$staged" ] || [ $claimed = 1 ] || rm -f -- "$staged"
[ -d "$d" ] || { end unstarted - 0 0; exit 0; }
# The runner is identified once (its cmdline); then its start time in /proc/<pid>/stat, read with
# builtins, says it is still the same live process. Polls start fast for short steps and settle at
# 0.5 s: at 20 parallel joins per host machine, every fork in this loop competes with kubeadm.
born=; ralive "$pg" "$d" && born=$(st=; read -r st <"/proc/$pg/stat"; set -- \${st##*") "}; echo "\${20}")
# The output is measured only when it may have changed since the last look (test -nt and : > are
# builtins). Timestamps are coarse, so an equal one counts as changed: the next look is a tick later.
seen="$d/seen.$nonce"; size=-1
nap=0.05
while :; do
  fin=0
  if [ ! -e "$d/rc" ]; then
    l=; read -r l <"/proc/$pg/stat" 2>/dev/null; set -- \${l##*") "}
    [ -n "$born" ] && [ "$1" != Z ] && [ "\${20}" = "$born" ] || fin=1
  else fin=1; fi
  if [ $fin = 1 ] || [ $size = -1 ] || ! [ "$seen" -nt "$d/out" ]; then
    : >"$seen"
    size=$(wc -c 2>/dev/null <"$d/out" || echo 0)
    if [ "$size" -gt "$off" ]; then tail -c +$((off + 1)) "$d/out" | head -c $((size - off)); off=$size; fi
  fi
  [ $fin = 1 ] && break
  sleep $nap
  case $nap in 0.05) nap=0.1 ;; 0.1) nap=0.2 ;; 0.2) nap=0.4 ;; *) nap=0.5 ;; esac
done
rc=$(cat "$d/rc" 2>/dev/null)
case $rc in
  '') state=died; rmafter ;;
  *[!0-9]*) state=$rc ;;
  *) state=finished ;;
esac
rm -f -- "$seen"
end "$state" "\${rc:--}" "$size" "$claimed"
tail -c ${OUTPUT_TAIL_BYTES} "$d/out" >&2 2>/dev/null
`;

// Exit 0 = this call recorded the cancellation, 1 = the step had already ended. rc=cancelled
// goes first so a runner still waiting for the lock never starts; a runner that finishes in the
// same instant overwrites it with its real exit code, which then wins.
const CANCEL = `${PRELUDE}
[ -d "$J" ] || (umask 077 && mkdir -p -- "$J")
if (umask 077 && mkdir -- "$d") 2>/dev/null; then : >"$d/out"; stamp finished; setrc cancelled; exit 0; fi
waitpid
[ -e "$d/rc" ] && exit 1
setrc cancelled
if [ -n "$pg" ] && ralive "$pg" "$d"; then
  kill -TERM -"$pg" 2>/dev/null
  i=0; while galive && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL -"$pg" 2>/dev/null
  i=0; while galive && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done
fi
rmafter
[ "$(cat "$d/rc")" = cancelled ] || exit 1
stamp finished
`;

const STATE = `${PRELUDE}
[ -d "$d" ] || { echo absent; exit 0; }
waitpid
if [ -e "$d/rc" ] || ! ralive "$pg" "$d"; then echo finished; else echo running; fi
`;

function script(text: string, name: string, args: string[]): string {
  return `sh -c ${shellQuote(text)} ${name} ${args.map(shellQuote).join(' ')}`;
}

export interface AttachArgs {
  dir: string;
  lock: string;
  id: string;
  nonce: string;
  fromOffset: number;
  command: string;
  guard?: string;
  removeAfter: string[];
  /** Written from stdin before the step is claimed; '' or undefined for none. */
  inputPath?: string;
}

export function attachScript(a: AttachArgs): string {
  const rest = [a.command, a.guard === undefined ? '0' : '1', a.guard ?? '', ...a.removeAfter];
  return script(ATTACH, 'kha-journal', [
    a.dir,
    a.lock,
    a.id,
    a.nonce,
    String(a.fromOffset),
    RUNNER,
    REDACT_SED,
    a.inputPath ?? '',
    ...rest,
  ]);
}

export function cancelScript(dir: string, lock: string, id: string): string {
  return script(CANCEL, 'kha-journal-cancel', [dir, lock, id]);
}

export function stateScript(dir: string, lock: string, id: string): string {
  return script(STATE, 'kha-journal-state', [dir, lock, id]);
}
