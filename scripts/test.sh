#!/usr/bin/env bash
# `make test`: lint, types, then pytest over the whole workspace in parallel (pytest-xdist).
# Each xdist worker starts its own Redis and FerretDB (and, for the contract tests, its own services
# and Traefik) on free ports the first time one of its tests needs them (root conftest.py), so the
# workers share nothing and never collide with a running `make up`.
# TEST_WORKERS sets the number of workers (default 4: the tests mostly wait on I/O and on processes
# they started, so more workers than the 2 cores pay off); extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
echo "==> ruff"
uv run --frozen ruff check .
uv run --frozen ruff format --check .
echo "==> mypy"
uv run --frozen mypy
echo "==> pytest"
exec uv run --frozen pytest -n "${TEST_WORKERS:-4}" --dist worksteal "$@"
