#!/usr/bin/env bash
# Build the images of docker-compose.e2e.yml on the base image (cached: seconds when nothing
# changed), printing one line per build step and the time it took. Needs the engine and the
# base image; the images that install Python packages also need the wheelhouse.
#
#   build-images.sh [all|early|wheels]
#     all     every image (the default)
#     early   what needs no wheel: the datastores' images, and the Python images' first stage
#             (apt's python3, the same in each, so their build finds it cached): prepare.sh
#             runs this while the wheelhouse is still downloading
#     wheels  the images that install from .wheelhouse/ (compose/<image>/requirements.txt)
set -uo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
case $part in all|early|wheels) ;; *) echo "usage: $0 [all|early|wheels]" >&2; exit 2 ;; esac
t0=$(date +%s)
# (assign, then export: `export X=$(cmd)` would hide a failure of cmd)
base=$(bash scripts/base-image.sh) || exit 1
export E2E_BASE_IMAGE=$base
compose=(docker compose --progress plain -f docker-compose.e2e.yml)

# The services with a build section, split by whether their Dockerfile's folder has a
# requirements.txt (what scripts/wheelhouse.sh fetches wheels for).
services() {  # services <with|without>
  "${compose[@]}" config --format json | python3 -c '
import json, os, sys
want = sys.argv[1] == "with"
for name, svc in json.load(sys.stdin)["services"].items():
    build = svc.get("build")
    if build:
        folder = os.path.dirname(build.get("dockerfile", "Dockerfile"))
        if os.path.exists(os.path.join(folder, "requirements.txt")) == want:
            print(name)' "$1"
}

case $part in
  all) targets=() ;;
  early) mapfile -t targets < <(services without) ;;
  wheels) mapfile -t targets < <(services with) ;;
esac
[ "$part" = all ] || [ "${#targets[@]}" -gt 0 ] || { echo "[images] ERROR: no service found for '$part' in docker-compose.e2e.yml" >&2; exit 1; }
label=$([ "$part" = all ] && echo build || echo "build ($part)")
echo "[images] $label on $E2E_BASE_IMAGE${targets[*]:+: ${targets[*]}}"

show='/^#[0-9]+ \[[a-z]/ && !/internal\]/ {sub(/^#[0-9]+ /, ""); print "  [build] " substr($0, 1, 140); next} /ERROR|error|failed/ {print}'
pids=()
if [ "$part" = early ]; then
  # The first stage of a Python image, built on its own (the Dockerfiles share it verbatim)
  # as the image optiinfra-e2e/python-stage:local, through compose: the same builder and
  # cache as the real build, which then finds apt's python3 done.
  first=$(grep -l '/requirements.txt' compose/*/Dockerfile | head -n1)
  stage=$(mktemp --suffix .yml)
  trap 'rm -f "$stage"' EXIT
  printf 'services:\n  python-stage:\n    image: optiinfra-e2e/python-stage:local\n    profiles: [build-only]\n    build: {context: ., dockerfile: %s, target: python, args: {BASE_IMAGE: "%s"}}\n' \
    "$first" "$base" >"$stage"
  "${compose[@]}" -f "$stage" --profile build-only build python-stage 2>&1 | awk "$show" & pids+=($!)
fi
"${compose[@]}" build "${targets[@]}" 2>&1 | awk "$show"
rc=${PIPESTATUS[0]}
for pid in "${pids[@]}"; do wait "$pid" || true; done  # a warm-up: the real build says if it fails
echo "[images] $label done in $(( $(date +%s) - t0 ))s (exit $rc)"
exit "$rc"
