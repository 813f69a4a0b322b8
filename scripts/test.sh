#!/usr/bin/env bash
# The whole suite: unit tests, the rendered configs against the real kubeadm, the SSH layer against a
# real sshd, workflow tests on a real Temporal dev server, the fleet's stand-ins, and the end-to-end
# run. Files run one at a time (2-core boxes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The real kubeadm of each release in fleet/real-kubeadm.ts (test/kubeadm/real-kubeadm.test.ts and the
# fleet's stand-in run them), and everything the real fleet's releases run; built once from the Go
# module proxy, reused afterwards.
bash scripts/build-kubernetes.sh --only kubeadm $(node lib/fleet/real-kubeadm.js)
bash scripts/build-real.sh $(node lib/fleet/real-kubeadm.js real)
export TEMPORAL_CLI_PATH="$PWD/.tools/venv/bin/temporal"
"$TEMPORAL_CLI_PATH" --version >/dev/null   # warm the binary: the SDK gives the server only 5 s to start
files=$(find lib/test -name '*.test.js' | sort)
exec node --test --test-concurrency=1 --test-timeout=600000 $files
