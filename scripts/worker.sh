#!/usr/bin/env bash
# Starts the worker as src/worker-node-flags.ts says (Node flags, environment); exec, so its pid is this script's.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2046 # the words are NAME=value pairs, node, its flags and the script
exec env $(node lib/src/worker-node-flags.js) "$@"
