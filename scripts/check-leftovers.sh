#!/usr/bin/env bash
# Fail when containers, networks or volumes of harness stacks are left behind, except a
# stack that was deliberately left running (owner=detached, e.g. `make start-test-env`).
set -euo pipefail
label=com.optiinfra.e2e.harness=1
left=$( {
  docker ps -a --filter "label=$label" --format '{{.Label "com.optiinfra.e2e.owner"}} container {{.Names}}'
  docker network ls --filter "label=$label" --format '{{.Label "com.optiinfra.e2e.owner"}} network {{.Name}}'
  docker volume ls --filter "label=$label" --format '{{.Label "com.optiinfra.e2e.owner"}} volume {{.Name}}'
} | grep -v '^detached ' || true)
if [ -n "$left" ]; then
  echo "[leftovers] ERROR: harness resources left behind:" >&2
  echo "$left" | sed 's/^/  /' >&2
  echo "[leftovers] remove them with: make stop-test-env (or python -m harness sweep)" >&2
  exit 1
fi
echo "[leftovers] none: no container, network or volume of a harness run is left"
