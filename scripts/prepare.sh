#!/usr/bin/env bash
# `make setup` / `make images`, the independent steps side by side:
#   engine (scripts/ensure-docker.sh) -> base image (scripts/base-image.sh) --+
#   wheelhouse (scripts/wheelhouse.sh) ----------------------------------------+-> build
#   virtualenv (make venv)      chromium                    (`images`: wheelhouse, base, build)
# The build (scripts/build-images.sh) needs no virtualenv: it runs while pip still installs.
# On a bare machine these are minutes each; one after another they were most of a cold start.
# Each step's output goes to a log, shown when the step fails; each step's time is printed as
#   [prepare] <step> done in <s>s
# (bench-cold reads these lines). PREPARE_PARALLEL=0 runs them one after another (the old
# order: engine, venv, chromium, wheelhouse, base image), for comparison.
#
#   prepare.sh setup|images
set -uo pipefail
cd "$(dirname "$0")/.."

what=${1:-images}
case $what in setup|images) ;; *) echo "usage: $0 setup|images" >&2; exit 2 ;; esac
PARALLEL=${PREPARE_PARALLEL:-1}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

say() { printf '[prepare] %s\n' "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
start_ms=$(now_ms)

# run_step <name> <command...>: run, log, record "<exit code> <ms>"; print the time.
run_step() {
  local name=$1 t0 rc
  shift
  t0=$(now_ms)
  "$@" >"$logs/$name.log" 2>&1
  rc=$?
  echo "$rc $(( $(now_ms) - t0 ))" >"$logs/$name.rc"
  if [ "$rc" = 0 ]; then
    say "$name done in $(secs $(( $(now_ms) - t0 )))s"
  else
    say "$name FAILED (exit $rc) after $(secs $(( $(now_ms) - t0 )))s; its output (tail):"
    tail -n 25 "$logs/$name.log" | sed 's/^/    /' >&2
  fi
  return "$rc"
}

# engine -> base image, beside the wheelhouse; then the build (its lines shown as they come)
images_chain() {
  run_step wheelhouse bash scripts/wheelhouse.sh &
  local wheels=$!
  run_step engine bash scripts/ensure-docker.sh || { wait "$wheels"; return 1; }
  [ "$what" = images ] || { wait "$wheels"; return 0; }
  run_step "base image" bash scripts/base-image.sh || { wait "$wheels"; return 1; }
  wait "$wheels" || return 1
  bash scripts/build-images.sh
}

steps=("run_step venv make --no-print-directory -s venv"
       "run_step chromium bash scripts/ensure-chromium.sh")
if [ "$what" = images ]; then
  steps=(images_chain "${steps[@]}")
else
  steps=("run_step engine bash scripts/ensure-docker.sh" "${steps[@]}")
fi

status=0
if [ "$PARALLEL" = 1 ]; then
  say "side by side: engine$([ "$what" = images ] && echo " then base image, wheelhouse (then the build)"), virtualenv, chromium..."
  pids=()
  for s in "${steps[@]}"; do
    # shellcheck disable=SC2086  # the step is a function name and its words
    $s &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
else
  # One after another, as before: engine, venv, chromium, wheelhouse, then the base image.
  run_step engine bash scripts/ensure-docker.sh || status=1
  [ $status = 0 ] && { run_step venv make --no-print-directory -s venv || status=1; }
  [ $status = 0 ] && { run_step chromium bash scripts/ensure-chromium.sh || status=1; }
  if [ "$what" = images ] && [ $status = 0 ]; then
    run_step wheelhouse bash scripts/wheelhouse.sh || status=1
    [ $status = 0 ] && { run_step "base image" bash scripts/base-image.sh || status=1; }
    [ $status = 0 ] && { bash scripts/build-images.sh || status=1; }
  fi
fi
[ "$status" = 0 ] || { say "ERROR: a step failed (its output is above)."; exit 1; }
say "$what ready in $(secs $(( $(now_ms) - start_ms )))s"
