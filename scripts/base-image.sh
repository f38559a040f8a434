#!/usr/bin/env bash
# Print the name of a Debian bookworm base image that exists in the local engine.
#
# Order: $E2E_BASE_IMAGE if set; debian:bookworm-slim if present or pullable; else a local
# bootstrap (debootstrap --variant=minbase from this machine's own apt mirror, then
# `docker import`) tagged optiinfra-e2e/debian:bookworm. Progress goes to stderr; stdout
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

say "$UPSTREAM cannot be pulled (no registry?); bootstrapping $LOCAL with debootstrap..."
[ "$(id -u)" = 0 ] || die "bootstrapping a base image needs root (debootstrap). Run as root, or set E2E_BASE_IMAGE to an image you have."
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -qq debootstrap >/dev/null
fi
# Same mirror as the machine's apt sources (never a hard-coded host).
source "$(dirname "${BASH_SOURCE[0]}")/apt-mirror.sh"
mirror=$(apt_mirror) || exit 1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
  || { tail -n 20 "$root.log" >&2; die "debootstrap failed (log tail above)."; }
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$LOCAL" >/dev/null
say "built $LOCAL in $(( $(date +%s) - start ))s"
echo "$LOCAL"
