#!/usr/bin/env bash
# Make sure a Docker engine with the Compose v2 plugin answers.
#
# Idempotent: returns at once when `docker info` and `docker compose version` work.
# On a Debian machine where we are root it provisions what is missing:
#   - Debian's docker.io (engine + containerd),
#   - the Compose v2 CLI plugin, taken from the next Debian release's docker-compose package
#     (the current release does not carry it), fetched from the mirror in this machine's own
#     apt sources,
#   - dockerd started in the background, logging to $DOCKERD_LOG, and waited for.
# Anywhere else it stops with a message saying what to install.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/optiinfra-e2e-dockerd.log}
DOCKERD_WAIT_S=${DOCKERD_WAIT_S:-60}
NEXT_DEBIAN=${NEXT_DEBIAN:-trixie}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

say() { printf '[ensure-docker] %s\n' "$*" >&2; }
die() { printf '[ensure-docker] ERROR: %s\n' "$*" >&2; exit 1; }

engine_ok() { docker info >/dev/null 2>&1; }

# The harness's one wait (harness.core.wait_for) in bash, with its timeout message format:
# what, how long, how often, the last answer. Kept in bash: this runs before any Python venv.
#   wait_until <description> <timeout s> <interval s> <command...>
wait_until() {
  local what=$1 timeout_s=$2 interval_s=$3 attempts=0 last="" start now elapsed_ms rc
  shift 3
  start=$(date +%s%N)
  while :; do
    attempts=$((attempts + 1))
    last=$("$@" 2>&1) && return 0
    rc=$?
    now=$(date +%s%N)
    elapsed_ms=$(((now - start) / 1000000))
    if ((elapsed_ms >= timeout_s * 1000)); then
      last=$(printf '%s' "$last" | tr '\n' ' ' | cut -c1-300)
      printf 'timed out after %d.%ds (timeout %ss, every %ss, %d attempts) waiting for %s\n' \
        $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)) "$timeout_s" "$interval_s" \
        "$attempts" "$what" >&2
      printf '  last exception: `%s` exited %d: %s\n' "$*" "$rc" "$last" >&2
      return 1
    fi
    sleep "$interval_s"
  done
}
compose_ok() { docker compose version >/dev/null 2>&1; }

if engine_ok && compose_ok; then
  exit 0
fi

# An engine named by DOCKER_HOST (tcp://, ssh://) or a docker context is not ours to start:
# wait for it a little (it may be starting), then say which one does not answer.
remote_engine() {
  case ${DOCKER_HOST:-} in unix://*|"") ;; *) echo "$DOCKER_HOST"; return 0 ;; esac
  local ctx
  ctx=$(docker context show 2>/dev/null) || return 1
  [ -n "$ctx" ] && [ "$ctx" != default ] && echo "docker context '$ctx'"
}
if remote=$(remote_engine); then
  wait_until "the engine at $remote to answer 'docker info'" "$DOCKERD_WAIT_S" 0.5 docker info \
    || die "the engine at $remote does not answer (DOCKER_HOST / docker context). Start it there, or unset DOCKER_HOST (docker context use default) for the local engine."
  engine_ok && compose_ok && exit 0
fi

can_provision() {
  [ "$(id -u)" = 0 ] && [ -r /etc/os-release ] && grep -qi '^ID=debian' /etc/os-release
}

if ! can_provision; then
  engine_ok || die "no Docker engine answers 'docker info'. Install and start Docker Engine (https://docs.docker.com/engine/install/), make sure your user can reach its socket, then retry."
  die "the Docker Compose v2 plugin is missing ('docker compose version' fails). Install docker-compose-plugin (Compose v2), then retry."
fi

# shellcheck source=apt-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-mirror.sh"

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  say "installing Debian's docker.io (engine + containerd)..."
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends \
    docker.io iptables ca-certificates >/dev/null
  command -v dockerd >/dev/null 2>&1 || die "apt installed docker.io but no dockerd is on PATH."
}

install_compose_plugin() {
  compose_ok && return 0
  local mirror tmp
  mirror=$(apt_mirror) || exit 1
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  say "fetching the Compose v2 plugin from Debian ${NEXT_DEBIAN}'s docker-compose package..."
  mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
  cat >"$tmp/next.sources" <<SRC
Types: deb
URIs: ${mirror}
Suites: ${NEXT_DEBIAN}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp/srcparts"
              -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache::Archives=$tmp/archives"
              -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
  mkdir -p "$tmp/srcparts" && cp "$tmp/next.sources" "$tmp/srcparts/next.sources"
  apt-get "${opts[@]}" -o APT::Sandbox::User=root update -qq >/dev/null || die "apt could not read ${NEXT_DEBIAN}'s package lists from the machine's mirror."
  (cd "$tmp" && apt-get "${opts[@]}" -o APT::Sandbox::User=root download docker-compose >/dev/null) \
    || die "apt could not download ${NEXT_DEBIAN}'s docker-compose package."
  dpkg-deb -x "$tmp"/docker-compose_*.deb "$tmp/x"
  local bin
  bin=$(find "$tmp/x" -type f -path '*cli-plugins/docker-compose' | head -n1)
  [ -n "$bin" ] || die "${NEXT_DEBIAN}'s docker-compose package carries no cli-plugins/docker-compose."
  mkdir -p "$PLUGIN_DIR"
  install -m 0755 "$bin" "$PLUGIN_DIR/docker-compose"
  compose_ok || die "installed $PLUGIN_DIR/docker-compose but 'docker compose version' still fails."
  say "compose plugin: $(docker compose version --short 2>/dev/null)"
}

start_daemon() {
  engine_ok && return 0
  # A daemon killed with its machine leaves a pid file and sockets that stop a new one.
  local pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
    say "removing stale $pidfile"
    rm -f "$pidfile"
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    rm -f /var/run/docker.sock
    if [ -f /run/docker/containerd/containerd.pid ] && \
       ! kill -0 "$(cat /run/docker/containerd/containerd.pid 2>/dev/null)" 2>/dev/null; then
      rm -f /run/docker/containerd/containerd.pid
    fi
    say "starting dockerd in the background (log: $DOCKERD_LOG)..."
    nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  if wait_until "dockerd to answer 'docker info'" "$DOCKERD_WAIT_S" 0.5 docker info; then
    say "engine up: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
    return 0
  fi
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  die "dockerd did not answer within ${DOCKERD_WAIT_S}s; its log is $DOCKERD_LOG (tail above)."
}

install_engine
start_daemon
install_compose_plugin
