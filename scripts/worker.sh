#!/usr/bin/env bash
# Starts the worker as src/worker-node-flags.ts says (Node flags, environment); exec, so its pid is this script's.
set -euo pipefail
cd "$(dirname "$0")/.."
# One word per line: NAME=value pairs, node, its flags and the script (whose path may hold spaces).
mapfile -t words < <(node lib/src/worker-node-flags.js)
exec env "${words[@]}" "$@"
