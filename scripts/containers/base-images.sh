#!/usr/bin/env bash
# Local stand-ins for the base images (no registry is reachable here; nothing is pulled):
#   localhost/outdoor/debian:bookworm  debootstrap --variant=minbase bookworm + Debian's python3 (3.11),
#                                      the host's apt sources and CA bundle, uv set to native TLS;
#                                      stands in for python:3.11-slim-bookworm (the Dockerfiles' ARG)
#   ghcr.io/astral-sh/uv:0.9           the uv binary from the uv wheel on PyPI, at /uv like the real one
# The rootfs tarball and the wheel are cached in $CONTAINERS_CACHE: a rerun only re-imports.
set -euo pipefail
source "$(dirname "$0")/env.sh"

ROOTFS_TAR="$CONTAINERS_CACHE/bookworm-minbase.tar"
# the rootfs is only needed while podman's storage lacks the image (a fresh clone on a machine that
# built it before reuses the image; a fresh machine debootstraps once into the cache)
if ! podman image exists "$BASE_IMAGE" && [ ! -s "$ROOTFS_TAR" ]; then
  say "debootstrap --variant=minbase bookworm (first time only, 1-2 min)"
  start=$SECONDS
  ROOTFS="$(mktemp -d "$CONTAINERS_CACHE/rootfs.XXXX")"
  trap 'rm -rf "$ROOTFS"' EXIT
  MIRROR="$(grep -hoE '^URIs: *\S+/debian$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')"
  debootstrap --variant=minbase --include=python3,ca-certificates bookworm "$ROOTFS" "${MIRROR:-http://deb.debian.org/debian}" \
    > "$CONTAINERS_CACHE/debootstrap.log" 2>&1 || { tail -20 "$CONTAINERS_CACHE/debootstrap.log"; exit 1; }
  # the host's apt sources and settings (the mirror reachable from here), and its CA bundle
  rm -f "$ROOTFS/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$ROOTFS/etc/apt/sources.list.d/" 2>/dev/null || cp /etc/apt/sources.list "$ROOTFS/etc/apt/"
  cp /etc/apt/apt.conf.d/99* "$ROOTFS/etc/apt/apt.conf.d/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$ROOTFS/etc/uv"
  printf 'native-tls = true\n' > "$ROOTFS/etc/uv/uv.toml"
  # slim like the -slim images: no docs, man pages, locales, apt lists or caches
  rm -rf "$ROOTFS"/usr/share/{doc,man,info,locale}/* "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* \
    "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/log/*
  tar -C "$ROOTFS" --numeric-owner -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  say "rootfs ready in $((SECONDS - start)) s ($(du -m "$ROOTFS_TAR" | cut -f1) MB)"
fi
if ! podman image exists "$BASE_IMAGE"; then
  podman import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' "$ROOTFS_TAR" "$BASE_IMAGE" >/dev/null
fi

if ! podman image exists "$UV_IMAGE"; then
  WHEELS="$CONTAINERS_CACHE/uv-wheel"
  if ! ls "$WHEELS"/uv-0.9.*.whl >/dev/null 2>&1; then
    python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_17_x86_64 \
      --python-version 3.11 "uv>=0.9,<0.10" -d "$WHEELS"
  fi
  CTX="$(mktemp -d)"
  python3 - "$(ls "$WHEELS"/uv-0.9.*.whl | head -1)" "$CTX" <<'PY'
import os, sys, zipfile
whl, out = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith(".data/scripts/uv"))
    with open(os.path.join(out, "uv"), "wb") as f:
        f.write(z.read(name))
os.chmod(os.path.join(out, "uv"), 0o755)
PY
  printf 'FROM scratch\nCOPY uv /uv\nENTRYPOINT ["/uv"]\n' > "$CTX/Containerfile"
  podman build -q "${BUILD_FLAGS[@]}" -t "$UV_IMAGE" "$CTX" >/dev/null
  rm -rf "$CTX"
fi
say "base images: $(podman image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%d MB", $1/1e6}') $BASE_IMAGE, $UV_IMAGE"
