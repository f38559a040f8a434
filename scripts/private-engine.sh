#!/usr/bin/env bash
# A second, private Docker engine beside the machine's own, for the remote-engine test and
# `make bench-cold`: its own data root (so it starts with no image at all), exec root, pid
# file, containerd, cgroup parent and address pool. It manages no iptables rules (two engines
# would fight over Docker's chains): this script adds the few its networks need, marked with
# a comment and removed by `stop`: FORWARD accepts for its pool (the main engine's policy is
# DROP, and bridged traffic crosses it), and a MASQUERADE for the pool so that image builds
# reach the Debian archive. Its default bridge is an interface of its own (RUN steps of a
# build use it). It listens on a TCP socket only.
#
#   private-engine.sh start DIR HOST:PORT   start it (state under DIR); prints its DOCKER_HOST
#   private-engine.sh stop DIR              stop it and delete DIR (containers, images, all)
#
# Published ports bind HOST (give a loopback address such as 127.0.0.2: the clients must then
# use the engine's host, not 127.0.0.1, which is what the remote-engine test proves).
# Needs root and dockerd on PATH (scripts/ensure-docker.sh installs it).
set -euo pipefail

# Its networks: user networks take /24s of the pool; its default bridge is the pool's last /24.
PRIVATE_ENGINE_POOL=${PRIVATE_ENGINE_POOL:-10.213.0.0/16}
PRIVATE_ENGINE_BIP=${PRIVATE_ENGINE_BIP:-10.213.255.1/24}
PRIVATE_ENGINE_WAIT_S=${PRIVATE_ENGINE_WAIT_S:-60}

say() { printf '[private-engine] %s\n' "$*" >&2; }
die() { printf '[private-engine] ERROR: %s\n' "$*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start DIR HOST:PORT | stop DIR"

# Bridge interface and firewall-rule tag, from the directory's name (<= 15 chars for Linux).
tag() { printf 'e2epe%s' "$(printf '%s' "$dir" | sha256sum | cut -c1-8)"; }

add_rules() {
  local t=$1 c=(-m comment --comment "$1")
  iptables -I FORWARD 1 -s "$PRIVATE_ENGINE_POOL" "${c[@]}" -j ACCEPT
  iptables -I FORWARD 1 -d "$PRIVATE_ENGINE_POOL" -m conntrack --ctstate RELATED,ESTABLISHED "${c[@]}" -j ACCEPT
  iptables -t nat -A POSTROUTING -s "$PRIVATE_ENGINE_POOL" ! -d "$PRIVATE_ENGINE_POOL" "${c[@]}" -j MASQUERADE
  : "$t"
}

remove_rules() {
  local t=$1 table rule
  for table in filter nat; do
    { iptables -t "$table" -S | grep -F -- "--comment $t " || true; } | sed 's/^-A /-D /' |
      while read -r rule; do eval "iptables -t $table $rule" || true; done
  done
}

# stop_pid <what> <pid file>: SIGTERM, wait up to 20 s, then SIGKILL.
stop_pid() {
  local pid
  [ -f "$2" ] && pid=$(cat "$2" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  say "$1 $pid ignored SIGTERM for 20s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  local t
  t=$(tag)
  # Its containers die with it (no live-restore); its own containerd must be gone too
  # before the directory goes, or it writes into it again.
  stop_pid dockerd "$dir/dockerd.pid"
  stop_pid containerd "$dir/exec/containerd/containerd.pid"
  remove_rules "$t"
  if ip link show "$t" >/dev/null 2>&1; then ip link delete "$t"; fi
  # Overlay mounts and netns files of its containers would keep the directory busy.
  if [ -d "$dir" ]; then
    { grep -F " $dir/" /proc/mounts || true; } | awk '{print $2}' | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$dir"
  fi
  [ ! -e "$dir" ] || die "could not delete $dir (still mounted? see: grep '$dir' /proc/mounts)"
}

start() {
  local addr=${1:-}
  [[ "$addr" =~ ^[0-9.]+:[0-9]+$ ]] || die "start needs HOST:PORT (an IPv4 address), got '${addr}'"
  [ "$(id -u)" = 0 ] || die "a private engine needs root (dockerd). Run as root."
  command -v dockerd >/dev/null 2>&1 || die "no dockerd on PATH: run scripts/ensure-docker.sh first."
  if [ -f "$dir/dockerd.pid" ] && kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null; then
    die "a private engine already runs from $dir (pid $(cat "$dir/dockerd.pid")); stop it first."
  fi
  mkdir -p "$dir/data" "$dir/exec"
  local name t
  name=$(basename "$dir")
  t=$(tag)
  command -v iptables >/dev/null 2>&1 || die "iptables is missing (apt-get install iptables)."
  ip link show "$t" >/dev/null 2>&1 || ip link add name "$t" type bridge
  ip addr replace "$PRIVATE_ENGINE_BIP" dev "$t"
  ip link set "$t" up
  remove_rules "$t"
  add_rules "$t"
  say "starting dockerd on tcp://$addr (state in $dir, log $dir/dockerd.log)..."
  # setsid: a Ctrl-C at the caller's terminal must not kill it before `stop` cleans up.
  setsid dockerd \
    --host "tcp://$addr" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    --bridge "$t" --iptables=false --ip-masq=false \
    --default-address-pool "base=$PRIVATE_ENGINE_POOL,size=24" \
    --cgroup-parent "/e2e-private-$name" \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  local deadline=$((SECONDS + PRIVATE_ENGINE_WAIT_S))
  until DOCKER_HOST="tcp://$addr" docker info >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$dir/dockerd.log" >&2 || true
      die "the private engine did not answer on tcp://$addr within ${PRIVATE_ENGINE_WAIT_S}s (log tail above)."
    fi
    sleep 0.3
  done
  echo "tcp://$addr"
}

case $cmd in
  start) start "${3:-}" ;;
  stop) stop ;;
  *) die "unknown command '$cmd': start DIR HOST:PORT | stop DIR" ;;
esac
