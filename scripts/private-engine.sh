#!/usr/bin/env bash
# A second, private Docker engine beside the machine's own, for the remote-engine test and
# `make bench-cold`: its own data root (so it starts with no image at all), exec root, pid
# file, containerd, cgroup parent and address pool; no default bridge and no iptables rules,
# so it cannot disturb the main engine's networks. It listens on a TCP socket only.
#
#   private-engine.sh start DIR HOST:PORT   start it (state under DIR); prints its DOCKER_HOST
#   private-engine.sh stop DIR              stop it and delete DIR (containers, images, all)
#
# Published ports bind HOST (give a loopback address such as 127.0.0.2: the clients must then
# use the engine's host, not 127.0.0.1, which is what the remote-engine test proves).
# Needs root and dockerd on PATH (scripts/ensure-docker.sh installs it).
set -euo pipefail

PRIVATE_ENGINE_POOL=${PRIVATE_ENGINE_POOL:-10.213.0.0/16}
PRIVATE_ENGINE_WAIT_S=${PRIVATE_ENGINE_WAIT_S:-60}

say() { printf '[private-engine] %s\n' "$*" >&2; }
die() { printf '[private-engine] ERROR: %s\n' "$*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start DIR HOST:PORT | stop DIR"

stop() {
  local pid
  if [ -f "$dir/dockerd.pid" ] && pid=$(cat "$dir/dockerd.pid") && kill -0 "$pid" 2>/dev/null; then
    # Its containers die with it (no live-restore); the data root goes below anyway.
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { say "dockerd $pid ignored SIGTERM for 20s; killing it"; kill -KILL "$pid"; }
  fi
  # Overlay mounts and netns files of its containers would keep the directory busy.
  if [ -d "$dir" ]; then
    grep -F " $dir/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
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
  local name
  name=$(basename "$dir")
  say "starting dockerd on tcp://$addr (state in $dir, log $dir/dockerd.log)..."
  # setsid: a Ctrl-C at the caller's terminal must not kill it before `stop` cleans up.
  setsid dockerd \
    --host "tcp://$addr" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    --bridge none --iptables=false --ip-masq=false \
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
