#!/usr/bin/env bash
# Stops what the demo left running: the local fleet (if any) and the Temporal dev server.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -f lib/fleet/cli.js ] && node lib/fleet/cli.js down --dir .run/fleet
bash scripts/server.sh stop
