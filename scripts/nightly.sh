#!/usr/bin/env bash
# `make nightly`: the nightly workflow on one machine. NIGHTLY_SHARDS shards (default 3), each
# on its own stack (scripts/nightly-shard.sh: project optiinfra-e2e-nightly-<i>, port offset
# NIGHTLY_PORT_BASE + 100*i), side by side, or one after another with NIGHTLY_PARALLEL=0;
# then one merged report (python -m harness merge-reports) in artifacts/<run>/ and
# artifacts/latest/, and the run's lines in artifacts/history.jsonl. Extra arguments go to
# pytest in every shard.
set -uo pipefail
PY=${PY:-.venv/bin/python}
shards=${NIGHTLY_SHARDS:-3}
parallel=${NIGHTLY_PARALLEL:-1}
root=${NIGHTLY_DIR:-artifacts/nightly}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
rm -rf "$root" && mkdir -p "$root"  # the shards' folders of the previous nightly
started=$(date +%s)
echo "[nightly] $shards shard(s), $([ "$parallel" = 1 ] && echo side by side || echo one after another); logs in $root/shard-<i>.log"
# Job control: each shard gets a process group of its own, so one signal reaches all of it
# (nightly-shard.sh, pytest or the harness CLI, which tear the shard's stack down on SIGTERM).
set -m
pids=()
stop() {  # Ctrl-C / SIGTERM
  echo "[nightly] interrupted: stopping the shards (each removes its own stack)..." >&2
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  wait; exit 130
}
trap stop INT TERM
shard() {
  local g=$1; shift
  NIGHTLY_SHARDS=$shards NIGHTLY_GROUP=$g NIGHTLY_DIR=$root NIGHTLY_STAMP=$stamp \
    bash scripts/nightly-shard.sh "$@" \
    > >(tee "$root/shard-$g.log" | sed -u "s/^/[shard $g] /") 2>&1
}
status=0
# Every shard runs in the background and is waited for: bash runs the INT/TERM trap only
# between commands, so a shard in the foreground would delay it until the shard ended.
for g in $(seq 1 "$shards"); do
  shard "$g" "$@" & pids+=($!)
  if [ "$parallel" != 1 ]; then wait "$!" || status=$?; fi
done
if [ "$parallel" = 1 ]; then
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
fi
echo "[nightly] shards done after $(( $(date +%s) - started ))s; merging..."
dirs=(); for g in $(seq 1 "$shards"); do dirs+=("$root/shard-$g"); done
"$PY" -m harness merge-reports --run-id "$stamp-nightly" "${dirs[@]}" || status=$?
echo "[nightly] done in $(( $(date +%s) - started ))s: artifacts/latest/summary.md, report.html, junit.xml (exit $status)"
exit $status
