#!/usr/bin/env bash
# Fill .wheelhouse/<image>/ with wheels for compose/<image>/requirements.txt, on the host.
# Images install from there offline (containers cannot use pip over HTTPS, and an
# air-gapped CI needs the same). A stamp of the requirements' hash makes reruns instant.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
for req in compose/*/requirements.txt; do
  image=$(basename "$(dirname "$req")")
  dest=.wheelhouse/$image
  stamp=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; then
    continue
  fi
  printf '[wheelhouse] %s: downloading wheels for %s...\n' "$image" "$req" >&2
  rm -rf "$dest" && mkdir -p "$dest"
  "$PY" -m pip wheel --quiet --disable-pip-version-check -r "$req" -w "$dest" 2> >(grep -v 'is ignored: it is neither' >&2) \
    || { echo "[wheelhouse] ERROR: could not get wheels for $req (is PyPI reachable?)" >&2; exit 1; }
  echo "$stamp" >"$dest/.stamp"
done
