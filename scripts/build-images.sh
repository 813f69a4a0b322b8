#!/usr/bin/env bash
# Packs local OCI image archives for a real kubeadm cluster, named exactly as kubeadm names the
# images it deploys (so a node's containerd, after `ctr -n k8s.io images import <tar>`, never pulls):
#
#   .tools/images/<vX.Y.Z>/<name>_<tag>.tar   one OCI image layout per image (oci-layout,
#                                             index.json, blobs/sha256/...: manifest, config, one
#                                             uncompressed tar layer), deterministic
#   .tools/images/<vX.Y.Z>/images.tsv         <role>\t<image ref>\t<repo-relative tar path>
#                                             role: control-plane | all | test
#
# Inputs: the Kubernetes binaries of scripts/build-kubernetes.sh (.tools/kubernetes/<vX.Y.Z>/), the
# components of scripts/build-components.sh (run here first; it reuses what is built), and from
# Debian: iptables (/usr/sbin/xtables-nft-multi, its libraries and xtables modules) and
# busybox-static (/bin/busybox). An image is re-made only when its tar is missing or older than
# one of its inputs (this script included).
#
#   scripts/build-images.sh v1.37.2 [v1.36.3 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SELF=$ROOT/scripts/build-images.sh
REGISTRY=registry.k8s.io   # kubeadm's DefaultImageRepository
FLANNEL_REF_REPO=docker.io/flannel/flannel
BUSYBOX_REF=localhost/kubeadm-ha/busybox:1.35.0   # Debian's busybox-static, for test/e2e: a name no registry serves
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
XTABLES=/usr/sbin/xtables-nft-multi
XTABLES_MODULES=/usr/lib/x86_64-linux-gnu/xtables
BUSYBOX=/bin/busybox
TAR_OPTS=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)

log() { echo "build-images: $*"; }
die() { echo "build-images: $*" >&2; exit 1; }

for f in "$XTABLES" "$BUSYBOX"; do [ -x "$f" ] || die "needs $f (Debian packages iptables and busybox-static)"; done
[ -d "$XTABLES_MODULES" ] || die "needs $XTABLES_MODULES (Debian package iptables)"

# The host files the iptables tree is made of: xtables-nft-multi, the modules, and every shared
# library (and the loader) ldd names for them.
iptables_inputs() {
  echo "$XTABLES"
  ls "$XTABLES_MODULES"/*.so
  { ldd "$XTABLES"; for m in "$XTABLES_MODULES"/*.so; do ldd "$m"; done; } |
    awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u
}

# Rootfs skeleton shaped like Debian 12 (merged /usr), so library paths resolve as on the host.
skeleton() {
  local r=$1
  chmod 755 "$r"   # mktemp -d made it 0700; it becomes the image's /
  mkdir -p "$r"/usr/{bin,sbin,lib,lib64,local/bin} "$r"/{etc,tmp,run,var/lib,var/run}
  chmod 1777 "$r/tmp"
  ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  printf 'hosts: files dns\n' > "$r/etc/nsswitch.conf"
}

# copy_host_file ROOTFS PATH: copies a host file to the same path in the rootfs, keeping the symlink
# (e.g. libc.so.6 names) when the canonical directory path differs from the file's real path.
copy_host_file() {
  local r=$1 p=$2 real canon
  real=$(readlink -f "$p")
  canon="$(readlink -f "$(dirname "$p")")/$(basename "$p")"
  mkdir -p "$r$(dirname "$real")"
  cp "$real" "$r$real"
  if [ "$canon" != "$real" ]; then mkdir -p "$r$(dirname "$canon")"; ln -sf "$real" "$r$canon"; fi
}

add_busybox() {
  local r=$1 l
  cp "$BUSYBOX" "$r/usr/bin/busybox"
  # --list-full: usr/bin/[, bin/sh, sbin/ifconfig ... (bin, sbin are links to usr/ here).
  while read -r l; do
    [ "$l" = bin/busybox ] && continue
    [ -e "$r/$l" ] || [ -L "$r/$l" ] || ln -s /bin/busybox "$r/$l"
  done < <("$BUSYBOX" --list-full)
}

add_iptables() {
  local r=$1 f
  while read -r f; do copy_host_file "$r" "$f"; done < <(iptables_inputs)
  for f in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf xtables-nft-multi "$r/usr/sbin/$f"
  done
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# json_array a b c -> ["a","b","c"]
json_array() { local out="" s; for s in "$@"; do out+="${out:+,}\"$s\""; done; echo "[$out]"; }

# write_oci ROOTFS REF TAR ENTRYPOINT_JSON CMD_JSON
write_oci() {
  local r=$1 ref=$2 out=$3 entrypoint=$4 cmd=$5
  local tag=${ref##*:} lay; lay=$(mktemp -d /tmp/oci-image.XXXXXX)
  mkdir -p "$lay/blobs/sha256"
  tar "${TAR_OPTS[@]}" -C "$r" -cf "$lay/layer.tar" .
  local layer; layer=$(sha "$lay/layer.tar")
  local lsize; lsize=$(size "$lay/layer.tar")
  mv "$lay/layer.tar" "$lay/blobs/sha256/$layer"
  local cfgjson="{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\",\"config\":{\"Env\":[\"$PATH_ENV\"]"
  [ -n "$entrypoint" ] && cfgjson+=",\"Entrypoint\":$entrypoint"
  [ -n "$cmd" ] && cfgjson+=",\"Cmd\":$cmd"
  cfgjson+=",\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer\"]},\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"kubeadm-ha scripts/build-images.sh\"}]}"
  printf '%s' "$cfgjson" > "$lay/config.json"
  local cfg csize; cfg=$(sha "$lay/config.json"); csize=$(size "$lay/config.json")
  mv "$lay/config.json" "$lay/blobs/sha256/$cfg"
  printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cfg\",\"size\":$csize},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$layer\",\"size\":$lsize}]}" > "$lay/manifest.json"
  local man msize; man=$(sha "$lay/manifest.json"); msize=$(size "$lay/manifest.json")
  mv "$lay/manifest.json" "$lay/blobs/sha256/$man"
  printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$man\",\"size\":$msize,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},\"annotations\":{\"io.containerd.image.name\":\"$ref\",\"org.opencontainers.image.ref.name\":\"$tag\"}}]}" > "$lay/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$lay/oci-layout"
  tar "${TAR_OPTS[@]}" -C "$lay" -cf "$out.tmp" oci-layout index.json blobs
  mv "$out.tmp" "$out"
  rm -rf "$lay"
}

# fresh TAR INPUTS...: true when TAR exists and is newer than every input.
fresh() {
  local out=$1; shift
  [ -f "$out" ] || return 1
  local f; for f in "$@"; do [ "$f" -nt "$out" ] && return 1; done
  return 0
}

TSV_LINES=()
# image ROLE REF KIND ARGS...: makes one image (when stale) and records its images.tsv line.
image() {
  local role=$1 ref=$2 kind=$3; shift 3
  local name=${ref%:*}; name=${name##*/}
  local out=$OUTDIR/${name}_${ref##*:}.tar rel
  rel=${out#"$ROOT"/}
  TSV_LINES+=("$role	$ref	$rel")
  local inputs=("$SELF") entry="" cmd=""
  case $kind in
    kube) inputs+=("$KBIN/$1"); entry=$(json_array "/usr/local/bin/$1") ;;
    kube-proxy) inputs+=("$KBIN/kube-proxy" $BUSYBOX $(iptables_inputs)); entry=$(json_array /usr/local/bin/kube-proxy) ;;
    etcd) inputs+=("$ETCD_DIR/etcd" "$ETCD_DIR/etcdctl"); entry=$(json_array /usr/local/bin/etcd) ;;
    coredns) inputs+=("$COREDNS_DIR/coredns"); entry=$(json_array /coredns) ;;
    pause) inputs+=("$PAUSE_DIR/pause"); entry=$(json_array /pause) ;;
    flannel) inputs+=("$FLANNEL_DIR/flanneld" $BUSYBOX $(iptables_inputs)); entry=$(json_array /opt/bin/flanneld) ;;
    busybox) inputs+=("$BUSYBOX"); cmd=$(json_array sh) ;;
  esac
  if fresh "$out" "${inputs[@]}"; then log "$ref is up to date ($rel)"; return; fi
  local r; r=$(mktemp -d /tmp/rootfs.XXXXXX)
  skeleton "$r"
  case $kind in
    kube) cp "$KBIN/$1" "$r/usr/local/bin/$1" ;;
    kube-proxy) cp "$KBIN/kube-proxy" "$r/usr/local/bin/"; add_busybox "$r"; add_iptables "$r" ;;
    etcd) cp "$ETCD_DIR/etcd" "$ETCD_DIR/etcdctl" "$r/usr/local/bin/"; mkdir -p "$r/var/lib/etcd" ;;
    coredns) cp "$COREDNS_DIR/coredns" "$r/coredns" ;;
    pause) cp "$PAUSE_DIR/pause" "$r/pause" ;;
    flannel) mkdir -p "$r/opt/bin" "$r/etc/kube-flannel"; cp "$FLANNEL_DIR/flanneld" "$r/opt/bin/"; add_busybox "$r"; add_iptables "$r" ;;
    busybox) add_busybox "$r" ;;
  esac
  write_oci "$r" "$ref" "$out" "$entry" "$cmd"
  rm -rf "$r"
  log "$ref -> $rel ($(du -h "$out" | cut -f1))"
}

[ $# -gt 0 ] || { echo "usage: scripts/build-images.sh vX.Y.Z [...]" >&2; exit 2; }
bash "$ROOT/scripts/build-components.sh" "$@"
for version in "$@"; do
  KBIN=$ROOT/.tools/kubernetes/$version
  for b in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    [ -x "$KBIN/$b" ] || die "$KBIN/$b is missing: build it with scripts/build-kubernetes.sh $version"
  done
  # shellcheck source=/dev/null
  source "$ROOT/.tools/components/releases/$version.env"
  OUTDIR=$ROOT/.tools/images/$version
  mkdir -p "$OUTDIR"
  TSV_LINES=()
  image control-plane "$REGISTRY/kube-apiserver:$version" kube kube-apiserver
  image control-plane "$REGISTRY/kube-controller-manager:$version" kube kube-controller-manager
  image control-plane "$REGISTRY/kube-scheduler:$version" kube kube-scheduler
  image control-plane "$REGISTRY/etcd:$ETCD_TAG" etcd
  image all "$REGISTRY/pause:$PAUSE_VERSION" pause
  image all "$REGISTRY/kube-proxy:$version" kube-proxy
  # kubeadm's GetDNSImage: the default repository gets a /coredns suffix.
  image all "$REGISTRY/coredns/coredns:$COREDNS_VERSION" coredns
  image all "$FLANNEL_REF_REPO:$FLANNEL_VERSION" flannel
  image test "$BUSYBOX_REF" busybox
  printf '%s\n' "${TSV_LINES[@]}" > "$OUTDIR/images.tsv.tmp"
  mv "$OUTDIR/images.tsv.tmp" "$OUTDIR/images.tsv"
  log "$version: $OUTDIR/images.tsv"
done
