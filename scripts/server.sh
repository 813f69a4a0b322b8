#!/usr/bin/env bash
# The embedded default Temporal: `temporal server start-dev` with a SQLite file (runs survive a
# restart) and the Web UI. Usage: scripts/server.sh start|stop|status
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=.run/temporal
PORT=${TEMPORAL_PORT:-7233}
UI_PORT=${TEMPORAL_UI_PORT:-8233}
mkdir -p "$RUN"

running() { [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; }

case "${1:-start}" in
  start)
    if running; then echo "Temporal dev server already running (pid $(cat "$RUN/pid")), Web UI http://localhost:$UI_PORT"; exit 0; fi
    .tools/venv/bin/temporal server start-dev --ip 127.0.0.1 --port "$PORT" --ui-port "$UI_PORT" \
      --db-filename "$RUN/temporal.db" --log-level warn \
      --search-attribute KubeadmHaCluster=Keyword --search-attribute KubeadmHaPhase=Keyword --search-attribute KubeadmHaStatus=Keyword \
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
    if running; then
      pid=$(cat "$RUN/pid")
      kill "$pid"
      # Return only once it is gone, so the port is free for whoever starts next.
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "Temporal dev server stopped"
    fi
    rm -f "$RUN/pid"
    ;;
  status)
    if running; then echo "running (pid $(cat "$RUN/pid"))"; else echo "stopped"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
