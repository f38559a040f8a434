#!/usr/bin/env bash
# make venv: .venv with the harness and its test dependencies.
# uv (one static binary, a wheel on PyPI) resolves and installs in parallel: pip took 116 s of
# CPU here, the largest share of a cold start; uv 27 s. pip is the fallback, when uv cannot
# be installed or fails. uv reads no pip.conf: pip's index-url is handed to it.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
say() { printf '[setup] %s\n' "$*" >&2; }

python3 -m venv .venv || { say "ERROR: python3 -m venv failed (Debian: apt-get install python3-venv)"; exit 1; }
with_pip() {
  # --no-compile: bytecode is written on first import instead of for every module at install
  "$PY" -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-test.txt -e . \
    2> >(grep -v 'is ignored: it is neither' >&2)
}
if ! "$PY" -m pip install --quiet --disable-pip-version-check uv 2> >(grep -v 'is ignored: it is neither' >&2); then
  say "uv could not be installed: pip installs the packages (slower)"
  with_pip; exit
fi
index=${PIP_INDEX_URL:-$("$PY" -m pip config get global.index-url 2>/dev/null || true)}
[ -n "$index" ] && export UV_DEFAULT_INDEX=${UV_DEFAULT_INDEX:-$index}
.venv/bin/uv pip install --quiet --python "$PY" -r requirements-test.txt -e . && exit 0
say "uv failed (above): pip installs the packages instead"
with_pip
