"""Run every benchmark in turn; each writes its own section of docs/benchmarks.md."""

from __future__ import annotations

import importlib
import sys
import time

BENCHES = [
    "bench.cache_bench",
    "bench.metrics_bench",
    "bench.pdf_bench",
    "bench.events_bench",
    "bench.atomic_bench",
]


def main() -> None:
    selected = [b for b in BENCHES if not sys.argv[1:] or any(a in b for a in sys.argv[1:])]
    failed = []
    for name in selected:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"==> {name}: not available ({exc})", flush=True)
            failed.append(name)
            continue
        print(f"==> {name}", flush=True)
        start = time.monotonic()
        try:
            print(module.main(), flush=True)
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            print(f"{name} failed: {exc!r}", file=sys.stderr)
            failed.append(name)
        print(f"    ({time.monotonic() - start:.0f} s)", flush=True)
    print("==> results written to docs/benchmarks.md")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
