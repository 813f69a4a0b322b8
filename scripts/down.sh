#!/usr/bin/env bash
# Stops everything `npm run demo`, `npm run server` and the fleet started from this checkout, and
# says what it stopped: the local fleet (its nodes, sshds, HAProxy, stand-ins), the Temporal dev
# server and the codec server, then any worker, auto-approving client or other process of ours still
# running (scripts/leftovers.ts --stop). Run again, it finds nothing, prints nothing and exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -f lib/fleet/cli.js ] && [ -f .run/fleet/fleet.json ]; then
  node lib/fleet/cli.js down --dir .run/fleet && echo "down: removed the local fleet in .run/fleet"
fi
bash scripts/server.sh stop | sed 's/^/down: /'
[ -f lib/scripts/leftovers.js ] && node lib/scripts/leftovers.js --stop
exit 0
