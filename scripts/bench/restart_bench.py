"""Where a restart under supervisord spends its time (issue 12): run against a running `make up`.

`PYTHONPATH=scripts python -m bench.restart_bench [--rounds 3]` (the stack's ports and data dir from
the same environment variables as `make up`). For each round:

- core-api: SIGTERM to the `serve` parent → old parent gone (drain) → new parent started by
  supervisord → its workers spawned → first `/api/v1/health/ready` 200 (each probe on a new
  connection: the listening socket is held by `make up`, so probes wait in its backlog);
- pdf-worker: SIGKILL → new process → its readiness (`/api/v1/health/ready` on its metrics port) 200.

Prints one line per phase; the numbers are for the machine at hand (report ratios, and its load).
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path

import httpx
from devstack.servers import ROOT, worker_pids
from devstack.supervisor import program_pid

DATA = Path(os.environ.get("STACK_DATA_DIR", ROOT / ".data"))
CONF = DATA / "supervisor" / "supervisord.conf"


def ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2, headers={"connection": "close"}).status_code == 200
    except httpx.HTTPError:
        return False


def poll(predicate, timeout: float = 300) -> float:  # noqa: ANN001
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError("not within the bound")
        time.sleep(0.05)
    return time.monotonic()


def core_api_round(port: int) -> dict[str, float]:
    old = program_pid(CONF, "core-api")
    assert old is not None, "core-api is not running"
    n = len(worker_pids(old)) or 1
    t0 = time.monotonic()
    os.kill(old, signal.SIGTERM)
    gone = poll(lambda: not Path(f"/proc/{old}").exists())
    new: list[int] = []

    def restarted() -> bool:
        pid = program_pid(CONF, "core-api")
        if pid is not None and pid != old:
            new.append(pid)
            return True
        return False

    started = poll(restarted)
    spawned = poll(lambda: len(worker_pids(new[-1])) >= n)
    up = poll(lambda: ready(f"http://127.0.0.1:{port}/api/v1/health/ready"))
    return {
        "drain (SIGTERM → old parent gone)": gone - t0,
        "supervisord restart (→ new parent)": started - gone,
        "parent start-up (→ workers spawned)": spawned - started,
        "workers start-up (→ ready 200)": up - spawned,
        "total": up - t0,
    }


def pdf_worker_round(port: int) -> dict[str, float]:
    old = program_pid(CONF, "pdf-worker")
    assert old is not None, "pdf-worker is not running"
    t0 = time.monotonic()
    os.kill(old, signal.SIGKILL)
    started = poll(lambda: program_pid(CONF, "pdf-worker") not in (None, old))
    up = poll(lambda: ready(f"http://127.0.0.1:{port}/api/v1/health/ready"))
    return {
        "supervisord restart (→ new process)": started - t0,
        "start-up (→ ready 200)": up - started,
        "total": up - t0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(prog="restart_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    core_port = int(os.environ.get("CORE_API_PORT", "4000"))
    worker_port = int(os.environ.get("PDF_WORKER_METRICS_PORT", "4101"))
    for i in range(args.rounds):
        for name, fn, port in (
            ("core-api serve", core_api_round, core_port),
            ("pdf-worker", pdf_worker_round, worker_port),
        ):
            phases = fn(port)
            load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
            print(
                f"round {i + 1} {name} (load {load}): "
                + "; ".join(f"{k} {v:.1f}s" for k, v in phases.items()),
                flush=True,
            )
            time.sleep(5)


if __name__ == "__main__":
    main()
