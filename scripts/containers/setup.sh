#!/usr/bin/env bash
# Install podman, runc, debootstrap (Debian) and podman-compose (PyPI, run through uvx) when missing.
set -euo pipefail
source "$(dirname "$0")/env.sh"
APT=(podman runc debootstrap slirp4netns uidmap fuse-overlayfs golang-github-containernetworking-plugin-dnsname)
missing=()
for p in "${APT[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
say "podman $(podman --version | awk '{print $3}') with $CONTAINERS_CONF"
# podman-compose from PyPI (uvx keeps it out of the project's lock); the first call installs it
PODMAN_COMPOSE_VERSION=1.6.0
uvx --quiet --from "podman-compose==$PODMAN_COMPOSE_VERSION" podman-compose --version >/dev/null
say "podman-compose $PODMAN_COMPOSE_VERSION ready"
