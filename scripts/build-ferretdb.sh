#!/usr/bin/env bash
# Build FerretDB v1 (SQLite handler) from the Go module proxy, once, into .cache/bin/ferretdb.
# A plain `go install .../cmd/ferretdb@v1.24.2` panics at start because build/version/version.txt
# is generated in FerretDB's own repo (FerretDB issue #2982); we write it ourselves.
set -euo pipefail
VERSION="${FERRETDB_VERSION:-v1.24.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${FERRETDB_BIN:-$ROOT/.cache/bin/ferretdb}"
if [ -x "$OUT" ] && "$OUT" --version 2>/dev/null | grep -q "${VERSION#v}"; then
  exit 0
fi
command -v go >/dev/null || { echo "go toolchain not found: install Go (https://go.dev) and re-run" >&2; exit 1; }
echo "==> building FerretDB $VERSION with Go (first time only, a few minutes)"
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
DIR="$(cd "$WORK" && go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
cp -r "$DIR" "$WORK/src"
chmod -R u+w "$WORK/src"
echo "$VERSION" > "$WORK/src/build/version/version.txt"
echo "unknown" > "$WORK/src/build/version/commit.txt"
echo "v1" > "$WORK/src/build/version/branch.txt"
echo "source" > "$WORK/src/build/version/package.txt"
mkdir -p "$(dirname "$OUT")"
(cd "$WORK/src" && CGO_ENABLED=0 go build -trimpath -o "$OUT.tmp" ./cmd/ferretdb)
mv "$OUT.tmp" "$OUT"
echo "==> FerretDB built: $OUT"
