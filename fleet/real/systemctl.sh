#!/bin/sh
# systemctl for a fleet node, which has no systemd: the units are the kubelet (kubelet-service.py
# runs it while run/kubelet.wanted exists) and containerd (started with the node). It answers what
# kubeadm asks (cmd/kubeadm/app/util/initsystem/initsystem_unix.go: start, stop, restart, enable,
# is-active, is-enabled, status, daemon-reload) and what the kubeadm page tells an operator to run.
N=/run/kha-node/host
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
active() { case "$1" in kubelet|kubelet.service) alive $N/run/kubelet.pid ;; containerd|containerd.service) alive $N/run/containerd.pid ;; *) return 1 ;; esac; }
known() { case "$1" in kubelet|kubelet.service|containerd|containerd.service) return 0 ;; *) return 1 ;; esac; }
stop_kubelet() {
  rm -f $N/run/kubelet.wanted
  if alive $N/run/kubelet.pid; then
    kill "$(cat $N/run/kubelet.pid)" 2>/dev/null
    i=0; while alive $N/run/kubelet.pid && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  fi
}
now=0; verb=; units=
for a in "$@"; do
  case "$a" in
    --now) now=1 ;;
    -*) ;;
    *) if [ -z "$verb" ]; then verb=$a; else units="$units $a"; fi ;;
  esac
done
rc=0
case "$verb" in
  daemon-reload) exit 0 ;;
esac
for u in $units; do
  if ! known "$u"; then echo "Failed to $verb $u: Unit $u not found." >&2; [ "$verb" = status ] && echo "Unit $u could not be found."; rc=5; continue; fi
  case "$u" in kubelet*) k=1 ;; *) k=0 ;; esac
  case "$verb" in
    start) [ $k = 1 ] && touch $N/run/kubelet.wanted ;;
    stop) [ $k = 1 ] && stop_kubelet ;;
    restart)
      if [ $k = 1 ]; then
        touch $N/run/kubelet.wanted
        if alive $N/run/kubelet.pid; then touch $N/run/kubelet.restart; kill "$(cat $N/run/kubelet.pid)" 2>/dev/null; fi
      fi ;;
    enable) [ $k = 1 ] && { touch $N/run/kubelet.enabled; [ $now = 1 ] && touch $N/run/kubelet.wanted; }
      echo "Created symlink /etc/systemd/system/multi-user.target.wants/$u.service → /lib/systemd/system/$u.service." | sed 's/\.service\.service/.service/g' ;;
    disable) [ $k = 1 ] && { rm -f $N/run/kubelet.enabled; [ $now = 1 ] && stop_kubelet; } ;;
    is-active) if active "$u"; then echo active; else echo inactive; rc=3; fi ;;
    is-enabled) if [ $k = 0 ] || [ -f $N/run/kubelet.enabled ]; then echo enabled; else echo disabled; rc=1; fi ;;
    status)
      name=${u%.service}
      echo "● $name.service"
      echo "     Loaded: loaded (/lib/systemd/system/$name.service; enabled; preset: enabled)"
      if active "$u"; then echo "     Active: active (running)"; else echo "     Active: activating (auto-restart)"; rc=3; fi ;;
    *) echo "systemctl (kubeadm-ha fleet node): unsupported command $verb" >&2; exit 1 ;;
  esac
done
exit $rc
