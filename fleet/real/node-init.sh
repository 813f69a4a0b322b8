#!/bin/sh
# One real fleet node. Started by fleet/real/nodes.ts as
#   unshare --mount --net --uts --ipc --propagation private --fork -- /bin/sh node-init.sh
# inside the node's own cgroup (kha-<slot>-<node> in every cgroup v1 hierarchy). It gives the node
# private /run, /tmp, /etc, /usr, /opt, /var, /root and /home (overlays on the machine's own, so the
# Debian packages are there and nothing is written to them), starts containerd, imports the images,
# and starts the kubelet's service loop, sshd, and the relay that carries SSH in from the machine.
# It ends as the node's holder: its pid names the node's namespaces.
#
# Environment: KHA_HOST_DIR KHA_BIN KHA_CNI KHA_IMAGES KHA_NODE KHA_ADDRESS KHA_GATEWAY KHA_ROLE KHA_CGROUP,
# and optionally KHA_UPGRADE_IMAGES (a second release's images folder)
set -eu
echo $$ > "$KHA_HOST_DIR/run/holder.pid"
N=/run/kha-node
log() { echo "$(date -u +%FT%TZ) $*" >> "$N/host/logs/node-init.log"; }

# containerd 1.6 hard-codes /run/containerd/s and ctr its FIFOs under /run: a private /run.
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p $N/host $N/bin $N/cni $N/images
mount --bind "$KHA_HOST_DIR" $N/host
mount --bind -o ro "$KHA_BIN" $N/bin
mount --bind -o ro "$KHA_CNI" $N/cni
mount --bind -o ro "$KHA_IMAGES" $N/images
if [ -n "${KHA_UPGRADE_IMAGES:-}" ]; then
  mkdir -p $N/upgrade-images
  mount --bind -o ro "$KHA_UPGRADE_IMAGES" $N/upgrade-images
fi
log "node $KHA_NODE ($KHA_ROLE) starting"

# kubeadm and the kubelet write fixed paths (/etc/kubernetes, /var/lib/kubelet, /usr/libexec/kubernetes
# for the flexvolume hostPath, /opt/cni): each node writes into its own upper layer.
for d in etc usr opt var; do
  mkdir -p "$N/host/layers/$d/upper" "$N/host/layers/$d/work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$N/host/layers/$d/upper,workdir=$N/host/layers/$d/work" "/$d"
done
# containerd's snapshots (overlayfs cannot stack on an overlay upper), the kubelet's pods, etcd's
# data and the logs: plain directories of the node's folder. The kubelet ignores --root-dir for its
# device-plugin socket, so a shared /var/lib/kubelet would mix nodes.
for sub in lib/containerd lib/kubelet lib/etcd log; do
  mkdir -p "$N/host/var/$sub" "/var/$sub"
  mount --bind "$N/host/var/$sub" "/var/$sub"
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p "$N/host/root" "$N/host/home"
mount --bind "$N/host/root" /root
mount --bind "$N/host/home" /home
mkdir -p /run/sshd /run/kha
hostname "$KHA_NODE"
echo "$KHA_NODE" > /etc/hostname
cp "$N/host/etc-hosts" /etc/hosts
# The machine's resolver is out of reach from the fleet network; CoreDNS's loop plugin refuses a
# loopback resolver, so the node names the fabric (nothing answers there: lookups fail fast).
echo "nameserver $KHA_GATEWAY" > /etc/resolv.conf

# The node's cgroup is the root of its cgroup tree, as on a machine of its own: the kubelet's
# /kubepods and runc's container cgroups land under it, and kubelets of different nodes never see
# (nor clean up as orphans) each other's pods. runc and the kubelet's cgroupfs driver resolve a
# cgroup path below the hierarchy's mount point. The second bind keeps /proc/self/cgroup's path
# (/<node cgroup>) valid in the new view, as kind's node entrypoint does for cgroup v1 (fix_cgroup in
# kubernetes-sigs/kind images/base/files/usr/local/bin/entrypoint).
for h in /sys/fs/cgroup/*; do
  [ -d "$h/$KHA_CGROUP" ] && [ ! -L "$h" ] && [ "$h" != /sys/fs/cgroup/unified ] || continue
  mount --bind "$h/$KHA_CGROUP" "$h"
  mkdir -p "$h/$KHA_CGROUP"
  mount --bind "$h" "$h/$KHA_CGROUP"
done

# The kubelet sets these host-wide sysctls (KernelTunableBehavior in pkg/kubelet/cm); the node sees
# the values it wants in files bound over /proc/sys, and the machine keeps its own.
mkdir -p "$N/host/sysctl"
for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  key=${kv%%=*}; f="$N/host/sysctl/$(echo "$key" | tr / .)"
  echo "${kv#*=}" > "$f"
  mount --bind "$f" "/proc/sys/$key"
done

# "Install" the packages: kubeadm, kubelet and kubectl as the Debian packages place them, the CNI
# plugins where containerd looks, /lib/modules that kube-proxy's DaemonSet mounts. The binaries are
# symlinks into the read-only release folder, not bind mounts: an upgrade's `install` (which unlinks
# the destination first) replaces a symlink with a plain file in the node's /usr layer, where a
# mount point would fail with EBUSY, and nothing ever writes through to the cached build.
for b in kubeadm kubelet kubectl; do
  ln -sfn "$N/bin/$b" "/usr/bin/$b"
done
mkdir -p /opt/cni/bin /etc/cni/net.d /usr/lib/modules /etc/kubernetes/manifests /etc/containerd
mount --bind "$N/cni" /opt/cni/bin
cp "$N/host/systemctl" /usr/local/sbin/systemctl
cp "$N/host/kubeadm-audit" /usr/local/bin/kubeadm
chmod 755 /usr/local/sbin/systemctl /usr/local/bin/kubeadm
cp "$N/host/containerd.toml" /etc/containerd/config.toml

# Wait for the fleet to plug in eth0 (a veth to the fabric bridge) and set its address and route.
i=0
until [ -f "$N/host/run/net-ready" ]; do
  i=$((i + 1)); [ $i -lt 600 ] || { log "eth0 never came"; exit 1; }
  sleep 0.1
done
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || true

containerd --config /etc/containerd/config.toml >> "$N/host/logs/containerd.log" 2>&1 &
echo $! > "$N/host/run/containerd.pid"
i=0
until ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 300 ] || { log "containerd did not start"; exit 1; }
  sleep 0.1
done
# The images kubeadm would pull, under their registry.k8s.io names: IfNotPresent never pulls. With
# KHA_UPGRADE_IMAGES, a second release's too (same roles), for a `kubeadm upgrade apply` to it; an
# image both releases list (pause, flannel, ...) is imported once.
imported=" "
import_images() { # <folder holding images.tsv and the archives>
  while IFS='	' read -r role ref tar; do
    case "$role" in
      all|test) ;;
      control-plane|etcd) [ "$KHA_ROLE" = worker ] && continue ;;
      *) continue ;;
    esac
    [ "$role" = control-plane ] && [ "$KHA_ROLE" = etcd ] && case "$ref" in */etcd:*) ;; *) continue ;; esac
    case "$imported" in *" $ref "*) continue ;; esac
    ctr -n k8s.io images import "$1/$(basename "$tar")" >> "$N/host/logs/images.log" 2>&1 || { log "import of $ref failed"; exit 1; }
    imported="$imported$ref "
  done < "$1/images.tsv"
}
import_images $N/images
if [ -n "${KHA_UPGRADE_IMAGES:-}" ]; then import_images $N/upgrade-images; fi
log "images imported"

# The kubelet's unit as the packages install it, run by the service loop in place of systemd;
# systemctl (systemctl.sh) starts and stops it through files in run/.
mkdir -p /usr/lib/systemd/system/kubelet.service.d
cp "$N/host/kubelet.service" /usr/lib/systemd/system/kubelet.service
cp "$N/host/10-kubeadm.conf" /usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf
python3 "$N/host/kubelet-service.py" >> "$N/host/logs/kubelet-service.log" 2>&1 &
echo $! > "$N/host/run/kubelet-service.pid"

/usr/sbin/sshd -f "$N/host/sshd_config" -E "$N/host/logs/sshd.log"
# SSH from the machine arrives on a Unix socket in the node's folder (the machine has no route
# into the fleet network) and goes on to sshd on the node's own address.
socat "UNIX-LISTEN:$N/host/run/ssh.sock,fork,unlink-early,mode=600" "TCP:$KHA_ADDRESS:2222" 2>> "$N/host/logs/ssh-relay.log" &
echo $! > "$N/host/run/ssh-relay-in.pid"
touch "$N/host/run/ready"
log "ready"
exec sleep infinity
