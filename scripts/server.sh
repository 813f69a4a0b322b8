#!/usr/bin/env bash
# The embedded default Temporal: `temporal server start-dev` with a SQLite file (runs survive a
# restart) and the Web UI. With a payload key configured (KUBEADM_HA_CODEC_KEY_FILE or
# KUBEADM_HA_CODEC_KEY, as npm run demo sets), also our codec server on CODEC_PORT (8888), and the
# Web UI is told to decode payloads through it (--ui-codec-endpoint).
# Usage: scripts/server.sh start|stop|status
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=.run/temporal
PORT=${TEMPORAL_PORT:-7233}
UI_PORT=${TEMPORAL_UI_PORT:-8233}
CODEC_PORT=${CODEC_PORT:-8888}
mkdir -p "$RUN"

running() { [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; }
codec_running() { [ -f "$RUN/codec.pid" ] && kill -0 "$(cat "$RUN/codec.pid")" 2>/dev/null; }
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  # Return only once it is gone, so the port is free for whoever starts next.
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  return 0
}

case "${1:-start}" in
  start)
    codec=()
    if [ -n "${KUBEADM_HA_CODEC_KEY_FILE:-}${KUBEADM_HA_CODEC_KEY:-}" ]; then
      if ! codec_running; then
        node lib/src/client/cli.js codec-server --port "$CODEC_PORT" \
          --origin "http://localhost:$UI_PORT" --origin "http://127.0.0.1:$UI_PORT" >"$RUN/codec-server.log" 2>&1 &
        echo $! >"$RUN/codec.pid"
        sleep 0.5
        codec_running || { echo "codec server exited; see $RUN/codec-server.log" >&2; cat "$RUN/codec-server.log" >&2; exit 1; }
        echo "Codec server on http://localhost:$CODEC_PORT (log $RUN/codec-server.log)"
      fi
      codec=(--ui-codec-endpoint "http://localhost:$CODEC_PORT")
    fi
    if running; then echo "Temporal dev server already running (pid $(cat "$RUN/pid")), Web UI http://localhost:$UI_PORT"; exit 0; fi
    # The search attributes the workflow uses, from its own definitions (the worker registers them too).
    mapfile -t attrs < <(node -e "for (const k of require('./lib/src/shared/definitions').SEARCH_ATTRIBUTES) console.log('--search-attribute\n' + k.name + '=Keyword')")
    .tools/venv/bin/temporal server start-dev --ip 127.0.0.1 --port "$PORT" --ui-port "$UI_PORT" "${codec[@]}" \
      --db-filename "$RUN/temporal.db" --log-level warn \
      "${attrs[@]}" \
      >"$RUN/server.log" 2>&1 &
    echo $! >"$RUN/pid"
    for _ in $(seq 1 120); do
      if .tools/venv/bin/temporal operator cluster health --address "127.0.0.1:$PORT" >/dev/null 2>&1; then
        echo "Temporal dev server on 127.0.0.1:$PORT (SQLite $RUN/temporal.db), Web UI http://localhost:$UI_PORT"
        exit 0
      fi
      running || { echo "Temporal dev server exited; see $RUN/server.log" >&2; tail -n 20 "$RUN/server.log" >&2; exit 1; }
      sleep 0.5
    done
    echo "Temporal dev server did not become healthy in 60s; see $RUN/server.log" >&2
    exit 1
    ;;
  stop)
    if running; then stop_pid "$(cat "$RUN/pid")"; echo "Temporal dev server stopped"; fi
    if codec_running; then stop_pid "$(cat "$RUN/codec.pid")"; echo "Codec server stopped"; fi
    rm -f "$RUN/pid" "$RUN/codec.pid"
    ;;
  status)
    codec_running && echo "codec server running (pid $(cat "$RUN/codec.pid"))"
    if running; then echo "running (pid $(cat "$RUN/pid"))"; else echo "stopped"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
