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
# BuildKit's plain output: "#7 [redis 2/3] RUN ..." starts step 7, "#7 DONE 12.3s" ends it.
# One line per step when it ends: its seconds (or "cached") and what it was.
docker compose --progress plain -f docker-compose.e2e.yml build 2>&1 | awk '
  /^#[0-9]+ \[[a-z]/ && !/internal\]/ { line = $0; sub(/^#[0-9]+ /, "", line); step[$1] = substr(line, 1, 120); next }
  /^#[0-9]+ DONE [0-9.]+s$/ { if ($1 in step) printf "  [build] %7s  %s\n", $3, step[$1]; next }
  /^#[0-9]+ CACHED$/ { if ($1 in step) printf "  [build]  cached  %s\n", step[$1]; next }
  /ERROR|error|failed/ { print }'
rc=${PIPESTATUS[0]}
echo "[images] build done in $(( $(date +%s) - t0 ))s (exit $rc)"
exit "$rc"
