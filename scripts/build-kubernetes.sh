#!/usr/bin/env bash
# Builds Kubernetes binaries of one release from the Go module k8s.io/kubernetes into
# .tools/kubernetes/<version>/ (git-ignored), and reuses them while the cache key still matches.
#
# k8s.io/kubernetes is not meant to be required as a module: its go.mod replaces every staging
# repository (k8s.io/api, k8s.io/client-go, ...) with ./staging/src/..., which does not exist in the
# module zip. A throwaway module requires it and replaces each staging repo with its published
# v0.<minor>.<patch> tag instead (the list is read from kubernetes's own go.mod), the technique
# described in kubernetes/kubernetes#79384. All the binaries come from ONE `go build`, so the
# packages they share compile once.
#
#   scripts/build-kubernetes.sh [--only kubeadm] v1.37.2 [v1.36.3 ...]
#
# Without --only: kubeadm kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy
# kubectl. The cache key is the version, the module's checksum (go.sum's h1: of k8s.io/kubernetes)
# and the binary list; a stamp file beside the binaries holds it. Beside each binary,
# <binary>.sha256 holds its SHA-256 as dl.k8s.io publishes it (the hex digest and a newline); a
# cached build that lacks them (or has older ones) gets them without a rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ALL="kubeadm kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl"
command -v go >/dev/null || { echo "build-kubernetes: needs Go (go.dev/doc/install); the modules come from the Go module proxy" >&2; exit 1; }
source "$ROOT/scripts/go-build.sh"

# <binary>.sha256 for each of these binaries in this folder, when missing or older than the binary.
write_sums() {
  local out=$1 c
  shift
  for c in "$@"; do
    [ -f "$out/$c.sha256" ] && ! [ "$out/$c" -nt "$out/$c.sha256" ] && continue
    sha256sum "$out/$c" | cut -d' ' -f1 > "$out/$c.sha256.tmp"
    mv "$out/$c.sha256.tmp" "$out/$c.sha256"
  done
}

build_one() {
  local version=$1 cmds=$2
  [[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "build-kubernetes: $version is not vMAJOR.MINOR.PATCH (e.g. v1.37.2)" >&2; return 2; }
  local minor=${BASH_REMATCH[1]} staging_tag="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
  local out="$ROOT/.tools/kubernetes/$version"
  local info sum modfile
  info=$(go mod download -json "k8s.io/kubernetes@$version") || { echo "build-kubernetes: the Go module proxy has no k8s.io/kubernetes@$version" >&2; return 1; }
  sum=$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$info")
  modfile=$(sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p' <<<"$info")
  local key="$version $sum"
  local missing=()
  for c in $cmds; do
    if [ -x "$out/$c" ] && grep -qxF "$key $c" "$out/stamp" 2>/dev/null; then continue; fi
    missing+=("$c")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    # shellcheck disable=SC2086 # $cmds is a word list
    write_sums "$out" $cmds
    echo "build-kubernetes: $version ($cmds) is cached in $out"
    return 0
  fi
  local work
  work=$(mktemp -d /tmp/kubernetes-build.XXXXXX)
  trap 'rm -rf "$work"' RETURN
  cd "$work"
  go mod init kubernetes-build >/dev/null 2>&1
  local args=(-require "k8s.io/kubernetes@$version")
  # "k8s.io/api => ./staging/src/k8s.io/api" lines of kubernetes's go.mod.
  while read -r repo; do
    args+=(-replace "$repo=$repo@$staging_tag")
  done < <(sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$modfile")
  go mod edit "${args[@]}"
  # go.mod's go directive must be at least kubernetes's.
  go mod edit -go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$modfile")"
  local pkgs=()
  for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  echo "build-kubernetes: resolving $version (staging repos at $staging_tag)"
  go mod tidy -e >/dev/null 2>&1 || true
  for p in "${pkgs[@]}"; do GOFLAGS=-mod=mod go get "$p@$version" >/dev/null 2>&1 || true; done
  # Without the version, a module build reports v0.0.0-master and kubeadm refuses to compare versions.
  local v=k8s.io/component-base/version
  local ldflags="-s -w -X $v.gitVersion=$version -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z"
  mkdir -p "$out"
  echo "build-kubernetes: go build ${missing[*]} ($version), one build"
  CGO_ENABLED=0 GOFLAGS=-mod=mod go_build_with_progress "build-kubernetes $version" -trimpath -ldflags "$ldflags" -o "$work/bin/" "${pkgs[@]}"
  for c in "${missing[@]}"; do
    mv "$work/bin/$c" "$out/$c"
    grep -vE " $c\$" "$out/stamp" 2>/dev/null > "$out/stamp.tmp" || true
    echo "$key $c" >> "$out/stamp.tmp"
    mv "$out/stamp.tmp" "$out/stamp"
  done
  # shellcheck disable=SC2086 # $cmds is a word list
  write_sums "$out" $cmds
  cd "$ROOT"
  echo "build-kubernetes: $out ($("$out/kubeadm" version -o short 2>/dev/null || echo "${missing[*]}"))"
}

cmds=$ALL
if [ "${1:-}" = "--only" ]; then cmds=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: scripts/build-kubernetes.sh [--only 'kubeadm ...'] vX.Y.Z [...]" >&2; exit 2; }
for v in "$@"; do build_one "$v" "$cmds"; done
