#!/usr/bin/env bash
# Builds, from Go modules, the non-Kubernetes parts a real kubeadm cluster needs, at the versions the
# given Kubernetes releases' kubeadm deploys, into .tools/components/ (git-ignored):
#
#   etcd-v<A.B.C>/{etcd,etcdctl}   go.etcd.io/etcd/{server,etcdctl}/v3 at the etcd version kubeadm
#                                  picks (constants.SupportedEtcdVersion / DefaultEtcdVersion)
#   coredns-v<X>/coredns           github.com/coredns/coredns at constants.CoreDNSVersion
#   pause-<ver>/pause              build/pause/linux/pause.c of k8s.io/kubernetes, gcc -static
#   flannel-v0.27.4/flanneld       github.com/flannel-io/flannel (v0.28.x is not on the module proxy),
#                                  cgo + static link (its udp backend is C)
#   cni-plugins/{bridge,host-local,loopback,portmap,flannel}
#                                  github.com/containernetworking/plugins v1.10.0, plus the flannel
#                                  CNI plugin from plugins v0.9.1 (its last release carrying
#                                  plugins/meta/flannel; flannel-io/cni-plugin is not on the proxy)
#   releases/<vX.Y.Z>.env          the versions kubeadm of that release deploys (read by
#                                  scripts/build-images.sh)
#
# Each output folder holds a `stamp` with its cache key (versions + module checksums); a folder
# whose stamp matches is reused, so releases that share a version share the build.
#
#   scripts/build-components.sh v1.37.2 [v1.36.3 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.tools/components
FLANNEL_VERSION=v0.27.4
CNI_PLUGINS_VERSION=v1.10.0
CNI_PLUGINS=(bridge host-local loopback portmap)
CNI_FLANNEL_VERSION=v0.9.1
command -v go >/dev/null || { echo "build-components: needs Go (go.dev/doc/install)" >&2; exit 1; }
source "$ROOT/scripts/go-build.sh"

log() { echo "build-components: $*"; }

# A writable copy of a module's source (the module cache is read-only), built with its own
# go.mod/go.sum so the dependency versions are the ones upstream released with.
copy_module() {
  local src=$1 dst
  dst=$(mktemp -d /tmp/components-build.XXXXXX)
  cp -r "$src/." "$dst/"
  chmod -R u+w "$dst"
  echo "$dst"
}

# kubeadm_versions vX.Y.Z: sets ETCD_TAG (e.g. 3.7.0-0), COREDNS_VERSION, PAUSE_VERSION, KDIR,
# read from kubeadm's constants.go in the k8s.io/kubernetes module source.
kubeadm_versions() {
  local version=$1
  [[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "build-components: $version is not vMAJOR.MINOR.PATCH (e.g. v1.37.2)" >&2; return 2; }
  local minor=${BASH_REMATCH[1]} info
  info=$(module_info "k8s.io/kubernetes@$version")
  KDIR=${info% *}; KSUM=${info#* }
  local c=$KDIR/cmd/kubeadm/app/constants/constants.go
  COREDNS_VERSION=$(sed -n 's/^\s*CoreDNSVersion = "\(.*\)"$/\1/p' "$c")
  PAUSE_VERSION=$(sed -n 's/^\s*PauseVersion = "\(.*\)"$/\1/p' "$c")
  local default; default=$(sed -n 's/^\s*DefaultEtcdVersion = "\(.*\)"$/\1/p' "$c")
  # constants.EtcdSupportedVersion: the map entry of the minor, else the nearest end of the map.
  local map; map=$(sed -n '/SupportedEtcdVersion = map\[uint8\]string{/,/^\s*}/s/^\s*\([0-9]*\): "\(.*\)",$/\1 \2/p' "$c" | sort -n)
  ETCD_TAG=$(awk -v m="$minor" -v d="$default" '
    { v[$1]=$2; if (min=="" || $1<min) min=$1; if ($1>max) max=$1 }
    END { if (m in v) print v[m]; else if (min=="") print d; else if (m+0<min+0) print v[min]; else print v[max] }' <<<"$map")
  [ -n "$COREDNS_VERSION" ] && [ -n "$PAUSE_VERSION" ] && [ -n "$ETCD_TAG" ] || { echo "build-components: could not read the versions from $c" >&2; return 1; }
}

build_etcd() {
  local tag=$1 v="v${1%%-*}" dir="$OUT/etcd-v${1%%-*}"
  local s1 s2; s1=$(module_info "go.etcd.io/etcd/server/v3@$v"); s2=$(module_info "go.etcd.io/etcd/etcdctl/v3@$v")
  local key="etcd $v ${s1#* } ${s2#* }"
  if cached "$dir" "$key" etcd etcdctl; then log "etcd $v is cached in $dir"; return; fi
  local work start=$SECONDS; work=$(mktemp -d /tmp/components-build.XXXXXX)
  (
    cd "$work"
    go mod init etcd-build >/dev/null 2>&1
    go mod edit -require "go.etcd.io/etcd/server/v3@$v" -require "go.etcd.io/etcd/etcdctl/v3@$v"
    go mod edit -go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "${s1% *}/go.mod")"
    # Resolves the two main packages' dependencies (minimal version selection over both modules).
    go get "go.etcd.io/etcd/server/v3@$v" "go.etcd.io/etcd/etcdctl/v3@$v" >/dev/null 2>&1 || go get "go.etcd.io/etcd/server/v3@$v" "go.etcd.io/etcd/etcdctl/v3@$v"
    CGO_ENABLED=0 go_build_with_progress "build-components etcd $v" -trimpath -ldflags "-s -w" -o "$work/bin/" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3
  )
  mkdir -p "$dir"
  mv "$work/bin/server" "$dir/etcd"; mv "$work/bin/etcdctl" "$dir/etcdctl"
  echo "$key" > "$dir/stamp"
  rm -rf "$work"
  log "etcd $v -> $dir ($((SECONDS - start)) s)"
}

build_coredns() {
  local v=$1 dir="$OUT/coredns-$1" info
  info=$(module_info "github.com/coredns/coredns@$v")
  local key="coredns $v ${info#* }"
  if cached "$dir" "$key" coredns; then log "coredns $v is cached in $dir"; return; fi
  local work start=$SECONDS; work=$(copy_module "${info% *}")
  (cd "$work" && CGO_ENABLED=0 go_build_with_progress "build-components coredns $v" -trimpath -ldflags "-s -w" -o "$work/bin/coredns" .)
  mkdir -p "$dir"; mv "$work/bin/coredns" "$dir/coredns"; echo "$key" > "$dir/stamp"
  rm -rf "$work"
  log "coredns $v -> $dir ($((SECONDS - start)) s)"
}

build_pause() {
  local v=$1 kdir=$2 dir="$OUT/pause-$1"
  local src=$kdir/build/pause/linux/pause.c
  local key="pause $v $(sha256sum "$src" | cut -d' ' -f1)"
  if cached "$dir" "$key" pause; then log "pause $v is cached in $dir"; return; fi
  local start=$SECONDS
  mkdir -p "$dir"
  gcc -Os -static -DVERSION="$v" -o "$dir/pause" "$src"
  strip "$dir/pause"
  echo "$key" > "$dir/stamp"
  log "pause $v -> $dir ($((SECONDS - start)) s)"
}

build_flannel() {
  local v=$FLANNEL_VERSION dir="$OUT/flannel-$FLANNEL_VERSION" info
  info=$(module_info "github.com/flannel-io/flannel@$v")
  local key="flannel $v ${info#* }"
  if cached "$dir" "$key" flanneld; then log "flannel $v is cached in $dir"; return; fi
  local work start=$SECONDS; work=$(copy_module "${info% *}")
  # flanneld cannot build with CGO_ENABLED=0 on amd64: its udp backend (always linked in, main.go
  # imports pkg/backend/udp) is a C proxy. So, as the upstream Makefile does, cgo on and a static
  # link (-extldflags -static), with netgo/osusergo so that glibc's NSS is not needed, and the
  # Makefile's version variable: -X github.com/flannel-io/flannel/pkg/version.Version=$(TAG).
  (cd "$work" && CGO_ENABLED=1 go_build_with_progress "build-components flanneld $v" -trimpath -tags netgo,osusergo \
    -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$v -extldflags -static" -o "$work/bin/flanneld" .)
  mkdir -p "$dir"; mv "$work/bin/flanneld" "$dir/flanneld"; echo "$key" > "$dir/stamp"
  rm -rf "$work"
  log "flanneld $v -> $dir ($((SECONDS - start)) s)"
}

build_cni_plugins() {
  local dir="$OUT/cni-plugins" i1 i2
  i1=$(module_info "github.com/containernetworking/plugins@$CNI_PLUGINS_VERSION")
  i2=$(module_info "github.com/containernetworking/plugins@$CNI_FLANNEL_VERSION")
  local key="plugins $CNI_PLUGINS_VERSION ${i1#* } ${CNI_PLUGINS[*]}; flannel $CNI_FLANNEL_VERSION ${i2#* }"
  if cached "$dir" "$key" "${CNI_PLUGINS[@]}" flannel; then log "CNI plugins are cached in $dir"; return; fi
  local bv=github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion
  local w1 w2 start=$SECONDS
  w1=$(copy_module "${i1% *}"); w2=$(copy_module "${i2% *}")
  local pkgs=(); local p
  for p in "${CNI_PLUGINS[@]}"; do
    case $p in loopback|bridge) pkgs+=("./plugins/main/$p");; host-local) pkgs+=("./plugins/ipam/$p");; *) pkgs+=("./plugins/meta/$p");; esac
  done
  (cd "$w1" && CGO_ENABLED=0 go_build_with_progress "build-components cni-plugins $CNI_PLUGINS_VERSION" -trimpath \
    -ldflags "-s -w -X $bv=$CNI_PLUGINS_VERSION" -o "$w1/bin/" "${pkgs[@]}")
  # plugins v0.9.1 (go 1.14) has a vendor/ directory in git, but module zips carry only
  # vendor/modules.txt, so build with -mod=mod from its go.sum.
  rm -rf "$w2/vendor"
  (cd "$w2" && CGO_ENABLED=0 go_build_with_progress "build-components cni-plugin flannel $CNI_FLANNEL_VERSION" -mod=mod -trimpath \
    -ldflags "-s -w -X $bv=$CNI_FLANNEL_VERSION" -o "$w2/bin/flannel" ./plugins/meta/flannel)
  rm -rf "$dir"; mkdir -p "$dir"
  for p in "${CNI_PLUGINS[@]}"; do mv "$w1/bin/$p" "$dir/$p"; done
  mv "$w2/bin/flannel" "$dir/flannel"
  echo "$key" > "$dir/stamp"
  rm -rf "$w1" "$w2"
  log "CNI plugins -> $dir ($((SECONDS - start)) s)"
}

[ $# -gt 0 ] || { echo "usage: scripts/build-components.sh vX.Y.Z [...]" >&2; exit 2; }
mkdir -p "$OUT/releases"
for version in "$@"; do
  kubeadm_versions "$version"
  log "$version: kubeadm deploys etcd $ETCD_TAG, CoreDNS $COREDNS_VERSION, pause $PAUSE_VERSION"
  build_etcd "$ETCD_TAG"
  build_coredns "$COREDNS_VERSION"
  build_pause "$PAUSE_VERSION" "$KDIR"
  # %q: the values are paths under the clone, which may hold spaces; build-images.sh sources this file.
  {
    printf '%s=%q\n' KUBERNETES_VERSION "$version" ETCD_TAG "$ETCD_TAG" ETCD_DIR "$OUT/etcd-v${ETCD_TAG%%-*}" \
      COREDNS_VERSION "$COREDNS_VERSION" COREDNS_DIR "$OUT/coredns-$COREDNS_VERSION" \
      PAUSE_VERSION "$PAUSE_VERSION" PAUSE_DIR "$OUT/pause-$PAUSE_VERSION" \
      FLANNEL_VERSION "$FLANNEL_VERSION" FLANNEL_DIR "$OUT/flannel-$FLANNEL_VERSION" CNI_DIR "$OUT/cni-plugins"
  } > "$OUT/releases/$version.env"
done
build_flannel
build_cni_plugins
