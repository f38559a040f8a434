#!/usr/bin/env bash
# Fail when containers, networks or volumes of harness stacks are left behind, except a
# stack that was deliberately left running (owner=detached, e.g. `make start-test-env`).
# The harness knows its labels (StackConfig.label_prefix): it does the check.
set -euo pipefail
exec "${PY:-.venv/bin/python}" -m harness leftovers
