#!/usr/bin/env bash
# Build every image of docker-compose.e2e.yml on the base image (cached: seconds when nothing
# changed), printing one line per build step and the time it took. Needs the engine, the base
# image and the wheelhouse (scripts/prepare.sh runs it once they are there).
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
# (assign, then export: `export X=$(cmd)` would hide a failure of cmd)
base=$(bash scripts/base-image.sh) || exit 1
export E2E_BASE_IMAGE=$base
echo "[images] building on $E2E_BASE_IMAGE"
docker compose --progress plain -f docker-compose.e2e.yml build 2>&1 \
  | awk '/^#[0-9]+ \[[a-z]/ && !/internal\]/ {sub(/^#[0-9]+ /, ""); print "  [build] " substr($0, 1, 140); next} /ERROR|error|failed/ {print}'
rc=${PIPESTATUS[0]}
echo "[images] build done in $(( $(date +%s) - t0 ))s (exit $rc)"
exit "$rc"
