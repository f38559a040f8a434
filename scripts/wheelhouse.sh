#!/usr/bin/env bash
# Fill .wheelhouse/<image>/ with wheels for compose/<image>/requirements.txt, on the host.
# Images install from there offline (containers cannot use pip over HTTPS, and an
# air-gapped CI needs the same). A stamp of the requirements' hash makes reruns instant.
# The images' wheels are fetched side by side: each is mostly waiting on the index.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

fetch() {  # fetch <image> <requirements> <stamp>
  local image=$1 req=$2 stamp=$3 dest=.wheelhouse/$1
  printf '[wheelhouse] %s: downloading wheels for %s...\n' "$image" "$req" >&2
  rm -rf "$dest" && mkdir -p "$dest"
  "$PY" -m pip wheel --quiet --disable-pip-version-check -r "$req" -w "$dest" 2> >(grep -v 'is ignored: it is neither' >&2) \
    || { echo "[wheelhouse] ERROR: could not get wheels for $req (is PyPI reachable?)" >&2; return 1; }
  echo "$stamp" >"$dest/.stamp"  # only once every wheel is there
}

pids=()
for req in compose/*/requirements.txt; do
  image=$(basename "$(dirname "$req")")
  stamp=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -f ".wheelhouse/$image/.stamp" ] && [ "$(cat ".wheelhouse/$image/.stamp")" = "$stamp" ]; then
    continue
  fi
  fetch "$image" "$req" "$stamp" & pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
