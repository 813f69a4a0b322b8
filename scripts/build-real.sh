#!/usr/bin/env bash
# Everything a real fleet of these releases runs, built from the Go module proxy and Debian's
# gcc, cached under .tools/ (git-ignored): the Kubernetes binaries (one go build per release), etcd,
# CoreDNS, pause, flannel and the CNI plugins, and the images the nodes import.
#   scripts/build-real.sh v1.37.2 [v1.36.3 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: scripts/build-real.sh vX.Y.Z [...]" >&2; exit 2; }
bash scripts/build-kubernetes.sh "$@"
bash scripts/build-components.sh "$@"
bash scripts/build-images.sh "$@"
