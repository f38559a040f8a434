#!/usr/bin/env bash
# Print the name of a Debian bookworm base image that exists in the local engine.
#
# Order: $E2E_BASE_IMAGE if set; debian:bookworm-slim if present or pullable; else a local
# bootstrap of a minbase bookworm from this machine's own apt mirror, imported as
# optiinfra-e2e/debian:bookworm: mmdebstrap (apt's parallel downloads, a tarball streamed
# straight into `docker import`: about half debootstrap's time here), debootstrap if
# mmdebstrap cannot be installed. Progress goes to stderr; stdout
# carries only the image name, so callers can do BASE=$(scripts/base-image.sh).
set -euo pipefail

UPSTREAM=debian:bookworm-slim
LOCAL=optiinfra-e2e/debian:bookworm
say() { printf '[base-image] %s\n' "$*" >&2; }
die() { printf '[base-image] ERROR: %s\n' "$*" >&2; exit 1; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

if [ -n "${E2E_BASE_IMAGE:-}" ]; then
  have "$E2E_BASE_IMAGE" || docker pull "$E2E_BASE_IMAGE" >&2 \
    || die "E2E_BASE_IMAGE=$E2E_BASE_IMAGE is neither local nor pullable."
  echo "$E2E_BASE_IMAGE"; exit 0
fi
if have "$UPSTREAM"; then echo "$UPSTREAM"; exit 0; fi
if have "$LOCAL"; then echo "$LOCAL"; exit 0; fi
if timeout 30 docker pull -q "$UPSTREAM" >/dev/null 2>&1; then echo "$UPSTREAM"; exit 0; fi

say "$UPSTREAM cannot be pulled (no registry?); bootstrapping $LOCAL from the Debian mirror..."
[ "$(id -u)" = 0 ] || die "bootstrapping a base image needs root (mmdebstrap/debootstrap). Run as root, or set E2E_BASE_IMAGE to an image you have."
apt_install() {  # the package lists may be missing on a bare machine: update once, then retry
  local apt=(apt-get -o DPkg::Lock::Timeout=300)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 && return 0
  "${apt[@]}" update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
}
command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap \
  || say "mmdebstrap could not be installed; falling back to debootstrap (slower)"
# Same mirror as the machine's apt sources (never a hard-coded host).
source "$(dirname "${BASH_SOURCE[0]}")/apt-mirror.sh"
mirror=$(apt_mirror) || exit 1
log=$(mktemp)
start=$(date +%s)
if command -v mmdebstrap >/dev/null 2>&1; then
  # apt's lists and downloaded .debs are left out of the tarball by mmdebstrap itself.
  mmdebstrap --variant=minbase --mode=root --format=tar bookworm - "$mirror" 2>"$log" \
    | docker import --change 'CMD ["bash"]' - "$LOCAL" >/dev/null
  rc=("${PIPESTATUS[@]}")
  [ "${rc[0]}" = 0 ] || { tail -n 20 "$log" >&2; rm -f "$log"; die "mmdebstrap failed (log tail above)."; }
  [ "${rc[1]}" = 0 ] || { rm -f "$log"; die "docker import of the bootstrapped root failed."; }
else
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap \
    || die "neither mmdebstrap nor debootstrap could be installed (is the Debian mirror reachable?)."
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; rm -f "$log"; die "debootstrap failed (log tail above)."; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$LOCAL" >/dev/null
fi
rm -f "$log"
say "built $LOCAL in $(( $(date +%s) - start ))s"
echo "$LOCAL"
