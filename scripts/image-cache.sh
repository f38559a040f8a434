#!/usr/bin/env bash
# CI's image cache: `save base|images FILE` writes the base image or the built images as one
# `docker save` archive; `load FILE` loads one if it exists (a cache miss is no error). The
# workflow keys each archive on the hash of the files that make those images.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[image-cache] %s\n' "$*" >&2; }
case "${1:-}" in
  load)
    file=${2:?usage: image-cache.sh load FILE}
    if [ -f "$file" ]; then say "loading $file..."; docker load -q -i "$file" >&2
    else say "no $file (cache miss): images are built"; fi ;;
  save)
    what=${2:?usage: image-cache.sh save base|images FILE}; file=${3:?FILE}
    if [ "$what" = base ]; then images=$(bash scripts/base-image.sh)
    else images=$(docker compose -f docker-compose.e2e.yml config --images | sort -u); fi
    mkdir -p "$(dirname "$file")"
    say "saving $(echo "$images" | wc -w) image(s) to $file..."
    # shellcheck disable=SC2086  # one word per image
    docker save -o "$file" $images ;;
  *) echo "usage: image-cache.sh load FILE | save base|images FILE" >&2; exit 2 ;;
esac
