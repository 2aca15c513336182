#!/usr/bin/env bash
# Build the service images with podman from the repository root, on the local stand-in bases.
# Layers are cached by podman: a rerun with unchanged sources takes seconds.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
for service in core-api pdf-service; do
  start=$SECONDS
  podman build "${BUILD_FLAGS[@]}" --build-arg "PYTHON_IMAGE=$BASE_IMAGE" \
    -f "services/$service/Dockerfile" -t "localhost/outdoor/$service:local" . \
    > "$CONTAINERS_CACHE/build-$service.log" 2>&1 || { tail -40 "$CONTAINERS_CACHE/build-$service.log"; exit 1; }
  size=$(podman image inspect --format '{{.Size}}' "localhost/outdoor/$service:local" | awk '{printf "%d", $1/1e6}')
  say "built outdoor/$service:local in $((SECONDS - start)) s, $size MB"
done
