# Sourced by the scripts in scripts/containers/: where the cache lives and how podman is configured.
# podman on this kind of machine (root, no systemd, hybrid cgroups, no CAP_SYS_RESOURCE) needs runc,
# cgroupfs and explicit ulimits; no registry is reachable, so nothing is ever pulled.
export PATH="$HOME/.local/bin:$PATH"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONTAINERS_CACHE="${CONTAINERS_CACHE:-$ROOT/.cache/containers}"
mkdir -p "$CONTAINERS_CACHE"
export CONTAINERS_CONF="$CONTAINERS_CACHE/containers.conf"
cat > "$CONTAINERS_CONF.tmp" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
mv "$CONTAINERS_CONF.tmp" "$CONTAINERS_CONF"
#: the local stand-ins for the base images no registry can give us here
BASE_IMAGE=localhost/outdoor/debian:bookworm
UV_IMAGE=ghcr.io/astral-sh/uv:0.9
#: every build: docker format (podman's OCI default drops HEALTHCHECK), never pull, host network
BUILD_FLAGS=(--format docker --pull=never --network=host)
say() { printf '==> %s\n' "$*"; }
