#!/usr/bin/env bash
# make bench-cold: time a cold start, bare engine + fresh clone to every service healthy with
# `make start-test-env`, and print each step beside the baseline (benchmarks/cold-start.txt).
#
# Default: nothing of this machine's engine is touched. A private dockerd with an EMPTY data
# root (scripts/private-engine.sh on BENCH_ENGINE_ADDR) is started at the same moment as
# `make start-test-env` in a fresh clone of HEAD (uncommitted changes are not in it), which
# points at it with DOCKER_HOST: no image, no build cache, no wheelhouse, no .venv. The stack
# runs as project $E2E_PROJECT at offset $E2E_PORT_OFFSET; the private engine, its data root
# and the clone are removed at the end, also on failure or Ctrl-C.
#
# BENCH_COLD_DESTRUCTIVE=1: the real thing on THIS machine's engine: stops dockerd and removes
# every optiinfra-e2e image first (other stacks on it die). Only on a machine of your own.
#
# BENCH_COLD_SERIAL=1 runs the preparation steps one after another (PREPARE_PARALLEL=0): the
# baseline's way. Not measured: the pip cache (warm here), the apt archive's reachability,
# installing docker.io and chromium (already installed here).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

ADDR=${BENCH_ENGINE_ADDR:-127.0.0.2:23750}
export E2E_PROJECT=${E2E_PROJECT:-optiinfra-e2e-bench-cold}
export E2E_PORT_OFFSET=${E2E_PORT_OFFSET:-600}
BASELINE=${BENCH_COLD_BASELINE:-benchmarks/cold-start.txt}
say() { printf '[bench-cold] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/bench-cold.XXXXXX")
clone=$scratch/clone
log=$scratch/start.log
engine_state=$scratch/engine

cleanup() {
  local rc=$?
  say "cleaning up (stack, private engine, clone)..."
  if [ -x "$clone/.venv/bin/python" ]; then
    (cd "$clone" && .venv/bin/python -m harness down >/dev/null 2>&1) || true
  fi
  [ -z "${BENCH_COLD_DESTRUCTIVE:-}" ] && bash "$repo/scripts/private-engine.sh" stop "$engine_state"
  rm -rf "$scratch"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${BENCH_COLD_DESTRUCTIVE:-}" = 1 ]; then
  say "WARNING: BENCH_COLD_DESTRUCTIVE=1 stops this machine's Docker engine and removes every"
  say "WARNING: optiinfra-e2e image: every stack on it dies. Ctrl-C within 10 s to keep them."
  sleep 10
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep '^optiinfra-e2e/' \
    | xargs -r docker image rm -f >/dev/null
  [ -f /var/run/docker.pid ] && kill -TERM "$(cat /var/run/docker.pid)"
  for _ in $(seq 1 100); do docker info >/dev/null 2>&1 || break; sleep 0.2; done
  unset DOCKER_HOST
else
  [ "$(id -u)" = 0 ] || die "the private engine needs root (or BENCH_COLD_DESTRUCTIVE=1 on a machine of your own)."
  export DOCKER_HOST=tcp://$ADDR
fi

say "fresh clone of HEAD ($(git rev-parse --short HEAD)) in a scratch directory..."
git clone --quiet --no-hardlinks "$repo" "$clone" || die "git clone failed"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(now_ms)
if [ -z "${BENCH_COLD_DESTRUCTIVE:-}" ]; then
  # The engine starts at the same moment as the rest, as ensure-docker.sh would start it;
  # ensure-docker.sh in the clone waits for it (DOCKER_HOST names it).
  ( bash "$repo/scripts/private-engine.sh" start "$engine_state" "$ADDR" >/dev/null 2>"$scratch/engine.log"
    echo "$(( $(now_ms) - t0 ))" >"$scratch/engine.ms" ) &
fi
serial=${BENCH_COLD_SERIAL:-0}
say "cold start: make start-test-env (steps $([ "$serial" = 1 ] && echo "one after another" || echo "side by side"))..."
( cd "$clone" && PREPARE_PARALLEL=$((1 - serial)) make --no-print-directory start-test-env ) 2>&1 | tee "$log" \
  | grep --line-buffered -E '^\[(prepare|images|harness)\]|^  \[build\]|still waiting'
rc=${PIPESTATUS[0]}
total_ms=$(( $(now_ms) - t0 ))
[ "$rc" = 0 ] || die "make start-test-env failed (exit $rc) after $((total_ms / 1000))s; log above."

# Each step's time, from the lines prepare.sh, the images target and the harness print.
step() { grep -oE "$1" "$log" | tail -n1 | grep -oE '[0-9]+(\.[0-9]+)?' | tail -n1; }
declare -A got=(
  [engine]=$( [ -f "$scratch/engine.ms" ] && awk '{printf "%.1f", $1/1000}' "$scratch/engine.ms" || step '\[prepare\] engine done in [0-9.]+s')
  [venv]=$(step '\[prepare\] venv done in [0-9.]+s')
  [wheelhouse]=$(step '\[prepare\] wheelhouse done in [0-9.]+s')
  [base_image]=$(step '\[prepare\] base image done in [0-9.]+s')
  [images_wall]=$(step '\[prepare\] images ready in [0-9.]+s')
  [build]=$(step '\[images\] build done in [0-9]+s')
  [up]=$(step 'all [0-9]+ services healthy in [0-9.]+s')
  [total]=$(awk -v ms="$total_ms" 'BEGIN{printf "%.1f", ms/1000}')
)
declare -A base=()
if [ -f "$repo/$BASELINE" ]; then
  while read -r k v _; do [[ "$k" =~ ^# ]] || [ -z "$k" ] || base[$k]=$v; done <"$repo/$BASELINE"
fi
printf '\n%-14s %10s %10s\n' step "now (s)" "baseline"
for k in engine venv wheelhouse base_image build images_wall up total; do
  printf '%-14s %10s %10s\n' "$k" "${got[$k]:--}" "${base[$k]:--}"
done
printf '\n(baseline: %s. images_wall: make images from start to every image built; side by\n side, venv overlaps the base image, wheelhouse and build, so the steps do not add up)\n' "$BASELINE"
