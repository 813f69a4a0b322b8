#!/usr/bin/env bash
# The whole suite: unit tests, the rendered configs against the real kubeadm, the SSH layer against a
# real sshd, workflow tests on Temporal's test server, the CLI and codec on a real dev server, the
# fleet's stand-ins, and the end-to-end runs. Files run one at a time (2-core boxes); each file's
# duration is printed at the end, then a check that nothing the suite started is left.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The real kubeadm of each release in fleet/real-kubeadm.ts (test/kubeadm/real-kubeadm.test.ts and the
# fleet's stand-in run them), and everything the real fleet's releases run; built once from the Go
# module proxy, reused afterwards.
bash scripts/build-kubernetes.sh --only kubeadm $(node lib/fleet/real-kubeadm.js)
bash scripts/build-real.sh $(node lib/fleet/real-kubeadm.js real)
# The production-like Temporal (mTLS, PostgreSQL, the Web UI server) at the version temporal-compose.yml
# pins, for test/temporal/prod-server and test/e2e/several-workers.
bash scripts/build-temporal-server.sh
export TEMPORAL_CLI_PATH="$PWD/.tools/venv/bin/temporal"
"$TEMPORAL_CLI_PATH" --version >/dev/null   # warm the binary: the SDK gives the server only 5 s to start
# Every test file, the fast tier's (test/unit-tier.txt, npm run test:unit) among them: from the
# sources, since lib/ keeps the output of a test file that was renamed or removed.
files=$(find test -name '*.test.ts' | sort | sed 's|^\(.*\)\.ts$|lib/\1.js|')
# Processes the tests start inherit it: scripts/leftovers.ts tells them from another checkout's.
export KHA_TEST_CHECKOUT="$PWD"
rc=0
# A file's whole run must end within the timeout: 30 minutes, for test/e2e/real-upgrade (about 25:
# two real clusters upgraded across a minor, every control plane's static pods restarted).
node --test --test-concurrency=1 --test-timeout=1800000 \
  --test-reporter=./lib/scripts/test-report.js --test-reporter-destination=stdout $files || rc=$?
# Whatever a test file left running (a fleet, a server, a worker) fails the suite too.
node lib/scripts/leftovers.js || rc=1
exit $rc
