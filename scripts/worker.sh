#!/usr/bin/env bash
# Starts the worker with its Node flags (src/worker-node-flags.ts); exec, so its pid is this script's.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2046 # the flags are words
exec node $(node lib/src/worker-node-flags.js)
