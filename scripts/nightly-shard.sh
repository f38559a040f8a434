#!/usr/bin/env bash
# One nightly shard: group NIGHTLY_GROUP of NIGHTLY_SHARDS of the e2e suite, split by the
# durations in .test_durations so that the shards' walls match (harness/reporting/_shards.py:
# serial seconds + parallel seconds / NIGHTLY_PARALLELISM), on a stack of its own (project and
# port offset of its own, so shards run side by side), with the platform under coverage and one retry
# per failed test (a pass on retry is FLAKY). Reports go to its own artifacts folder, which
# `python -m harness merge-reports` combines. This is what each CI runner of the nightly
# workflow runs; `make nightly` runs all shards on one machine. Extra arguments go to pytest.
set -uo pipefail
PY=${PY:-.venv/bin/python}
shards=${NIGHTLY_SHARDS:-3}
group=${NIGHTLY_GROUP:?NIGHTLY_GROUP (1..NIGHTLY_SHARDS) says which shard to run}
workers=${E2E_WORKERS:-4}
reruns=${NIGHTLY_RERUNS:-1}
if ! [[ "$group" =~ ^[0-9]+$ && "$shards" =~ ^[0-9]+$ ]] || [ "$group" -lt 1 ] || [ "$group" -gt "$shards" ]; then
  echo "[nightly] ERROR: NIGHTLY_GROUP=$group must be a number from 1 to NIGHTLY_SHARDS=$shards" >&2
  exit 2
fi
# Always a project, offset, folder and run of the shard's own (never the caller's E2E_*
# values: make exports E2E_PORT_OFFSET=1, which would put every shard on one stack's ports).
export E2E_PROJECT=${NIGHTLY_PROJECT:-optiinfra-e2e-nightly}-$group
export E2E_PORT_OFFSET=$(( ${NIGHTLY_PORT_BASE:-500} + 100 * group ))
export E2E_ARTIFACTS_DIR=${NIGHTLY_DIR:-artifacts/nightly}/shard-$group
export E2E_RUN_ID=${NIGHTLY_STAMP:-$(date -u +%Y%m%dT%H%M%SZ)}-nightly-shard-$group
say() { printf '[nightly %s/%s] %s\n' "$group" "$shards" "$*"; }
mkdir -p "$E2E_ARTIFACTS_DIR/coverage"
if [ "${NIGHTLY_COVERAGE:-1}" = 1 ]; then  # the platform's services write coverage data on stop
  export E2E_COMPOSE_FILE=docker-compose.e2e.yml:compose/coverage.override.yml
  E2E_COVERAGE_DIR=$(cd "$E2E_ARTIFACTS_DIR/coverage" && pwd)
  export E2E_COVERAGE_DIR
fi
started=$(date +%s)
say "stack '$E2E_PROJECT' on port offset $E2E_PORT_OFFSET; reports in $E2E_ARTIFACTS_DIR"
trap '"$PY" -m harness down' EXIT  # also on failure and Ctrl-C: coverage is written on stop
"$PY" -m harness down >/dev/null 2>&1
"$PY" -m harness up --no-build || exit $?
say "stack healthy after $(( $(date +%s) - started ))s"
# One plan for both parts: the serial and the parallel call split the whole collection alike
# and keep their part of this group. NIGHTLY_PARALLELISM must be the same for every shard.
split=(--shard "$group/$shards")
[ -n "${NIGHTLY_PARALLELISM:-}" ] && split+=(--shard-parallelism "$NIGHTLY_PARALLELISM")
retry=(); [ "$reruns" -gt 0 ] && retry=(--reruns "$reruns")
status=0
run() {  # pytest's exit 5 (this shard got none of these tests) is no failure
  local name=$1; shift
  "$PY" -m pytest scenarios --no-build --keep-stack "${split[@]}" "${retry[@]}" \
    --junitxml="$E2E_ARTIFACTS_DIR/junit-$name.xml" "$@"
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then status=$rc; fi
  say "$name part done after $(( $(date +%s) - started ))s (pytest exit $rc)"
}
mark=${E2E_MARK:+ and ($E2E_MARK)}
run serial -m "serial$mark" -p no:xdist "$@"
run parallel -m "not serial$mark" -n "$workers" "$@"
"$PY" -m harness down; trap - EXIT
say "done in $(( $(date +%s) - started ))s, exit $status"
exit $status
