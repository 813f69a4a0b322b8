#!/usr/bin/env bash
# The one-command demo: set up, start the Temporal dev server (SQLite, Web UI), a local fleet of
# real nodes (3 control planes + 2 workers, each with containerd and the real kubelet, HAProxy in
# front) and a worker; then run the whole stacked procedure through the CLI with approvals given
# automatically, printing progress as it goes, and show `kubectl get nodes -o wide`.
# The first run builds Kubernetes, etcd, CoreDNS, flannel and the images (cached in .tools/).
# DEMO_FLEET=standin runs the same procedure on the quick stand-in fleet (3 + 3) instead.
# The dev server stays up afterwards so the run can be inspected in the Web UI; `npm run down` stops it.
# Everything runs encrypted: a payload key in .run/codec.key (made once, mode 600), exported to the
# worker, the CLI and the codec server through which the Web UI shows the payloads decrypted.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_FLEET=${DEMO_FLEET:-real}
case "$DEMO_FLEET" in real|standin) ;; *) echo "demo: DEMO_FLEET is real or standin, not $DEMO_FLEET" >&2; exit 2 ;; esac
CONTROL_PLANES=${CONTROL_PLANES:-3}
FLEET=.run/fleet

bash scripts/setup.sh
UP=()
if [ "$DEMO_FLEET" = real ]; then
  WORKERS=${WORKERS:-2}
  VERSION=$(node lib/fleet/real-kubeadm.js real | awk '{print $NF}')
  bash scripts/build-real.sh "$VERSION"
  UP=(--real --kubernetes-version "$VERSION")
else
  WORKERS=${WORKERS:-3}
fi
if [ -z "${KUBEADM_HA_CODEC_KEY:-}" ]; then
  mkdir -p .run
  export KUBEADM_HA_CODEC_KEY_FILE=${KUBEADM_HA_CODEC_KEY_FILE:-$PWD/.run/codec.key}
  node lib/src/client/cli.js keygen --file "$KUBEADM_HA_CODEC_KEY_FILE"
fi
bash scripts/server.sh start
node lib/fleet/cli.js down --dir "$FLEET" >/dev/null 2>&1 || true
echo "Bringing up the local $DEMO_FLEET fleet: $CONTROL_PLANES control planes, $WORKERS workers, HAProxy"
node lib/fleet/cli.js up --dir "$FLEET" --control-planes "$CONTROL_PLANES" --workers "$WORKERS" "${UP[@]}" >/dev/null

mkdir -p .run
bash scripts/worker.sh >.run/worker.log 2>&1 &
WORKER_PID=$!
cleanup() {
  kill "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null || true
  # The real cluster stays up for a look (npm run down removes it); the stand-in fleet goes.
  if [ "${KEEP_FLEET:-$([ "$DEMO_FLEET" = real ] && echo 1 || echo 0)}" != 1 ]; then node lib/fleet/cli.js down --dir "$FLEET" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
echo "Worker started (log: .run/worker.log)"

set +e
# Nobody is at the keyboard: a step that parks ends the demo with its diagnosis (exit 5), not a wait; a
# host whose SSH does not answer parks within about a minute; a failed run prints its step and error
# (exit 1); a run that cannot go on by itself (no worker, failing workflow code) ends it after 30 s (exit 6).
node lib/src/client/cli.js start "$FLEET/cluster.yaml" --auto-approve "demo (auto-approve)" --exit-on-park
code=$?
set -e
echo
if [ $code -eq 0 ]; then
  # The cluster's own view, through the load balancer, from the first control plane.
  ssh -i "$FLEET/id_ed25519" -o UserKnownHostsFile="$FLEET/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -p "$(awk -F'port: ' '/^ssh:/ {split($2, a, " "); print a[1]}' "$FLEET/cluster.yaml")" \
    "kha@$(awk '/^controlPlanes:/ {getline; print}' "$FLEET/cluster.yaml" | sed 's/.*address: \([^ }]*\).*/\1/')" \
    sudo kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o wide || true
  echo
  [ "$DEMO_FLEET" = real ] && echo "The cluster keeps running: ssh -i $FLEET/id_ed25519 -o UserKnownHostsFile=$FLEET/known_hosts -p 2222 kha@<address in $FLEET/cluster.yaml>"
fi
# The fleet names its cluster after its slot ("fleet" on slot 0).
echo "Web UI: http://localhost:8233/namespaces/default/workflows/kubeadm-ha-$(awk '/^name:/ {print $2}' "$FLEET/cluster.yaml")"
echo "The dev server and the codec server keep running for the Web UI; stop everything with: npm run down"
[ -n "${KUBEADM_HA_CODEC_KEY_FILE:-}" ] && echo "The CLI needs the key to read the run: export KUBEADM_HA_CODEC_KEY_FILE=$KUBEADM_HA_CODEC_KEY_FILE"
exit $code
