#!/usr/bin/env bash
# `make test`: lint, static checks, then pytest over the whole workspace. The servers the tests need
# (Redis, FerretDB, Traefik) are started by the root conftest.py on free ports and stopped after.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
echo "==> ruff"
uv run --frozen ruff check .
echo "==> pytest"
exec uv run --frozen pytest "$@"
