#!/usr/bin/env bash
# `make containers`: build both service images with podman on this kind of machine and smoke-test them,
# then run the whole deploy/compose.yaml under podman-compose; everything started is torn down.
#   1. setup.sh        podman, runc, debootstrap (Debian), podman-compose (PyPI); containers.conf
#   2. base-images.sh  the debootstrap stand-in for python:3.11-slim-bookworm, uv's image from its wheel
#   3. build.sh        outdoor/core-api and outdoor/pdf-service (podman's layer cache makes reruns fast)
#   4. standins.sh     FerretDB, Redis, Traefik, Prometheus images for compose
#   5. pytest tests/containers  (the image smoke tests, then compose)
# Nothing is pulled (no registry is reachable here). CONTAINERS_CACHE (default .cache/containers)
# keeps the debootstrap rootfs and the uv wheel between runs.
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
source "$DIR/env.sh"
cd "$ROOT"
start=$SECONDS
"$DIR/setup.sh"
"$DIR/base-images.sh"
"$DIR/build.sh"
"$DIR/standins.sh"
say "images ready in $((SECONDS - start)) s"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'outdoor/(core-api|pdf-service)' || true
export CONTAINERS_CACHE
PYTHONPATH="$ROOT/scripts" uv run --frozen pytest tests/containers/test_images.py tests/containers/test_compose.py --timeout 900 -v "$@"
say "make containers: done in $((SECONDS - start)) s"
