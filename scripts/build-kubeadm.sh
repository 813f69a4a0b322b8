#!/usr/bin/env bash
# Builds the real kubeadm of one Kubernetes release from the Go module k8s.io/kubernetes, into
# .tools/kubeadm/<version>/kubeadm (git-ignored), and reuses it when it is there.
#
# k8s.io/kubernetes is not meant to be required as a module: its go.mod replaces every staging
# repository (k8s.io/api, k8s.io/client-go, ...) with ./staging/src/..., which does not exist in the
# module zip. A throwaway module requires it and replaces each staging repo with its published
# v0.<minor>.<patch> tag instead (the list is read from kubernetes's own go.mod), the technique
# described in kubernetes/kubernetes#79384.
#
#   scripts/build-kubeadm.sh v1.37.2 [v1.36.x ...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
command -v go >/dev/null || { echo "build-kubeadm: needs Go (go.dev/doc/install); the modules come from the Go module proxy" >&2; exit 1; }

build_one() {
  local version=$1
  [[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "build-kubeadm: $version is not vMAJOR.MINOR.PATCH (e.g. v1.37.2)" >&2; return 2; }
  local staging_tag="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
  local out="$ROOT/.tools/kubeadm/$version/kubeadm"
  if [ -x "$out" ] && "$out" version -o short 2>/dev/null | grep -qx "$version"; then
    echo "build-kubeadm: $out is there"
    return 0
  fi
  local work
  work=$(mktemp -d /tmp/kubeadm-build.XXXXXX)
  trap 'rm -rf "$work"' RETURN
  cd "$work"
  go mod init kubeadm-build >/dev/null 2>&1
  local modfile
  modfile=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  [ -f "$modfile" ] || { echo "build-kubeadm: the Go module proxy has no k8s.io/kubernetes@$version" >&2; return 1; }
  local args=(-require "k8s.io/kubernetes@$version")
  # "k8s.io/api => ./staging/src/k8s.io/api" lines of kubernetes's go.mod.
  while read -r repo; do
    args+=(-replace "$repo=$repo@$staging_tag")
  done < <(sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$modfile")
  go mod edit "${args[@]}"
  # go.mod's go directive must be at least kubernetes's.
  go mod edit -go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$modfile")"
  echo "build-kubeadm: resolving $version (staging repos at $staging_tag)"
  go mod tidy -e >/dev/null 2>&1 || true
  GOFLAGS=-mod=mod go get "k8s.io/kubernetes/cmd/kubeadm@$version" >/dev/null 2>&1 || true
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${BASH_REMATCH[1]} -X k8s.io/component-base/version.gitTreeState=clean"
  echo "build-kubeadm: go build k8s.io/kubernetes/cmd/kubeadm ($version)"
  mkdir -p "$(dirname "$out")"
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out.tmp" k8s.io/kubernetes/cmd/kubeadm
  mv "$out.tmp" "$out"
  cd "$ROOT"
  echo "build-kubeadm: $out ($("$out" version -o short))"
}

[ $# -gt 0 ] || { echo "usage: scripts/build-kubeadm.sh vX.Y.Z [...]" >&2; exit 2; }
for v in "$@"; do build_one "$v"; done
