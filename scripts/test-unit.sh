#!/usr/bin/env bash
# The fast tier: the test files in test/unit-tier.txt, after `npm ci` alone (see there). Run it before
# each commit; scripts/test.sh (npm test) runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --build
# Built here, once: two test files bundling it at the same time would write the same file.
node lib/src/workflow-bundle.js >/dev/null
bash scripts/test-server.sh >/dev/null
files=()
while read -r f; do
  [ -f "$f" ] || { echo "test-unit: $f (test/unit-tier.txt) does not exist" >&2; exit 1; }
  files+=("lib/${f%.ts}.js")
done < <(grep -v -e '^#' -e '^$' test/unit-tier.txt)
# Processes the tests start inherit it: scripts/leftovers.ts tells them from another checkout's.
export KHA_TEST_CHECKOUT="$PWD"
rc=0
node --test --test-concurrency=2 --test-timeout=120000 \
  --test-reporter=./lib/scripts/test-report.js --test-reporter-destination=stdout "${files[@]}" || rc=$?
node lib/scripts/leftovers.js || rc=1
exit $rc
