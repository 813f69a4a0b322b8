# What the builds from Go modules share (sourced by scripts/build-kubernetes.sh, build-components.sh
# and build-temporal-server.sh).

# module_info MODULE@VERSION: prints "<dir> <h1 sum>" of the downloaded module.
module_info() {
  local info
  info=$(go mod download -json "$1") || { echo "$(basename "$0" .sh): the Go module proxy has no $1" >&2; return 1; }
  printf '%s %s\n' "$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$info")" "$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$info")"
}

# cached DIR KEY FILES...: true when DIR/stamp is KEY and every FILE is there.
cached() {
  local dir=$1 key=$2; shift 2
  [ "$(cat "$dir/stamp" 2>/dev/null)" = "$key" ] || return 1
  local f; for f in "$@"; do [ -e "$dir/$f" ] || return 1; done
}

# go_build_with_progress LABEL ARGS...: `go build -v ARGS`, printing a line every 30 s with how many
# packages have compiled so far (`go build -v` names each package it compiles, not those it finds
# in the build cache), and the build's own errors.
go_build_with_progress() {
  local label=$1; shift
  local log; log=$(mktemp /tmp/go-build-log.XXXXXX)
  local start=$SECONDS
  go build -v "$@" >"$log" 2>&1 &
  local pid=$!
  local next=$((start + 30))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( SECONDS >= next )); then
      next=$((SECONDS + 30))
      echo "$label: $(grep -cv '^#\|: ' "$log" || true) packages compiled, $((SECONDS - start)) s"
    fi
  done
  local rc=0; wait "$pid" || rc=$?
  if [ $rc -ne 0 ]; then grep -v '^[a-zA-Z0-9._/-]*$' "$log" | tail -40 >&2; rm -f "$log"; echo "$label: go build failed (exit $rc)" >&2; return $rc; fi
  echo "$label: done, $(grep -cv '^#\|: ' "$log" || true) packages compiled in $((SECONDS - start)) s"
  rm -f "$log"
}
