#!/usr/bin/env bash
# The one-command demo: set up, start the Temporal dev server (SQLite, Web UI), a local fleet of
# 3 control planes + 3 workers behind HAProxy, and a worker; then run the whole stacked procedure
# through the CLI with approvals given automatically, printing progress as it goes.
# The dev server stays up afterwards so the run can be inspected in the Web UI; `npm run down` stops it.
# Everything runs encrypted: a payload key in .run/codec.key (made once, mode 600), exported to the
# worker, the CLI and the codec server through which the Web UI shows the payloads decrypted.
set -euo pipefail
cd "$(dirname "$0")/.."
CONTROL_PLANES=${CONTROL_PLANES:-3}
WORKERS=${WORKERS:-3}
FLEET=.run/fleet

bash scripts/setup.sh
if [ -z "${KUBEADM_HA_CODEC_KEY:-}" ]; then
  mkdir -p .run
  export KUBEADM_HA_CODEC_KEY_FILE=${KUBEADM_HA_CODEC_KEY_FILE:-$PWD/.run/codec.key}
  node lib/src/client/cli.js keygen --file "$KUBEADM_HA_CODEC_KEY_FILE"
fi
bash scripts/server.sh start
node lib/fleet/cli.js down --dir "$FLEET" >/dev/null 2>&1 || true
echo "Bringing up the local fleet: $CONTROL_PLANES control planes, $WORKERS workers, HAProxy"
node lib/fleet/cli.js up --dir "$FLEET" --control-planes "$CONTROL_PLANES" --workers "$WORKERS"

mkdir -p .run
bash scripts/worker.sh >.run/worker.log 2>&1 &
WORKER_PID=$!
cleanup() {
  kill "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null || true
  if [ "${KEEP_FLEET:-0}" != 1 ]; then node lib/fleet/cli.js down --dir "$FLEET" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
echo "Worker started (log: .run/worker.log)"

set +e
# Nobody is at the keyboard: a step that parks ends the demo with its diagnosis (exit 5), not a wait.
node lib/src/client/cli.js start "$FLEET/cluster.yaml" --auto-approve "demo (auto-approve)" --exit-on-park
code=$?
set -e
echo
# The fleet names its cluster after its slot ("fleet" on slot 0).
echo "Web UI: http://localhost:8233/namespaces/default/workflows/kubeadm-ha-$(awk '/^name:/ {print $2}' "$FLEET/cluster.yaml")"
echo "The dev server and the codec server keep running for the Web UI; stop everything with: npm run down"
[ -n "${KUBEADM_HA_CODEC_KEY_FILE:-}" ] && echo "The CLI needs the key to read the run: export KUBEADM_HA_CODEC_KEY_FILE=$KUBEADM_HA_CODEC_KEY_FILE"
exit $code
