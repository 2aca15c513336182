#!/usr/bin/env bash
# Build kustomize (pinned) with Go into .cache/bin once: the Kubernetes manifests are rendered and
# checked statically in `make test` (there is no cluster on this machine).
set -euo pipefail
VERSION="${KUSTOMIZE_VERSION:-v5.5.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/.cache/bin/kustomize"
[ -x "$OUT" ] && [ -f "$OUT.version" ] && [ "$(cat "$OUT.version")" = "$VERSION" ] && exit 0
command -v go >/dev/null || { echo "go toolchain not found: install Go and re-run" >&2; exit 1; }
echo "==> building kustomize $VERSION with Go (first time only)"
mkdir -p "$(dirname "$OUT")"
GOBIN="$(dirname "$OUT")" go install "sigs.k8s.io/kustomize/kustomize/v5@$VERSION"
echo "$VERSION" > "$OUT.version"
