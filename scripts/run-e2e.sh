#!/usr/bin/env bash
# Run the e2e scenarios on one stack: first the `serial` ones alone (they restart shared
# services), then the rest with pytest-xdist. A stack that was already up (make
# start-test-env) is reused and left running; one started here is removed at the end, also
# on failure or Ctrl-C. Extra arguments go to both pytest runs (e.g. -k spot -s); select by
# marker with E2E_MARK (e.g. E2E_MARK="not slow"), not with -m.
set -uo pipefail
PY=${PY:-.venv/bin/python}
workers=${E2E_WORKERS:-4}
# Both pytest sessions write into one artifacts/<run>/ and its reports cover both.
export E2E_RUN_ID=${E2E_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-e2e-$$}
was_up=0
"$PY" -m harness status >/dev/null 2>&1 && was_up=1
cleanup() { [ "$was_up" = 1 ] || "$PY" -m harness down; }
trap cleanup EXIT
status=0
run() {  # pytest's exit 5 ("no tests collected", e.g. a -k that selects none) is no failure
  "$PY" -m pytest scenarios --no-build --keep-stack "$@"
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then status=$rc; fi
}
mark=${E2E_MARK:+ and ($E2E_MARK)}
run -m "serial$mark" -p no:xdist "$@"
run -m "not serial$mark" -n "$workers" "$@"
exit $status
