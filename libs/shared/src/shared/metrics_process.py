"""prometheus-client multiprocess mode for a service run as several uvicorn workers.

Each worker writes its metrics to memory-mapped files in `PROMETHEUS_MULTIPROC_DIR`; `/metrics` (in
any worker) sums them, so a scrape covers every worker and a counter never goes backwards when a
worker dies (its files stay; only its live gauges are dropped). The parent process must:

1. create the directory and wipe the files of a previous run *before* any worker starts and before
   prometheus-client is imported in this process (it picks its value class at import time) —
   `prepare_multiprocess_dir`, called by `shared.cli` before uvicorn starts;
2. mark a worker dead when it exits, so `livesum` gauges (requests in progress, jobs in flight) stop
   counting it — `MetricsAwareMultiprocess`, uvicorn's supervisor plus that bookkeeping.

This module does not import prometheus-client at import time, on purpose (see 1).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from pathlib import Path

from uvicorn.supervisors.multiprocess import Multiprocess

log = logging.getLogger(__name__)
ENV = "PROMETHEUS_MULTIPROC_DIR"
#: created in the instance's directory while it drains; the readiness check then answers 503
DRAIN_FLAG = "draining"


def drain_seconds() -> float:
    """SHUTDOWN_DRAIN_SECONDS: after SIGTERM, keep serving (readiness 503) this long before closing."""
    raw = os.environ.get("SHUTDOWN_DRAIN_SECONDS", "0").strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        return 0.0


def is_draining() -> bool:
    """True while this instance's supervisor drains it (readiness answers 503 so load balancers stop)."""
    path = os.environ.get(ENV)
    return bool(path) and os.path.exists(os.path.join(path, DRAIN_FLAG))  # type: ignore[arg-type]


def prepare_multiprocess_dir(service_name: str, port: int) -> Path:
    """Create (or reuse) the directory, delete the previous run's `*.db` files, export the variable.

    Default: `<tmp>/prometheus-<service>-<port>`, one per service instance on this host (two
    instances must never share a directory: each wipes it at start). In containers, point
    PROMETHEUS_MULTIPROC_DIR at an emptyDir/tmpfs.
    """
    raw = os.environ.get(ENV) or str(
        Path(tempfile.gettempdir()) / f"prometheus-{re.sub(r'[^A-Za-z0-9_.-]', '_', service_name)}-{port}"
    )
    path = Path(raw)
    path.mkdir(parents=True, exist_ok=True)
    removed = 0
    for stale in path.glob("*.db"):  # only metric files: never empty a directory we did not fill
        stale.unlink(missing_ok=True)
        removed += 1
    (path / DRAIN_FLAG).unlink(missing_ok=True)
    os.environ[ENV] = str(path)
    log.info("prometheus multiprocess directory ready", extra={"path": str(path), "stale_files": removed})
    return path


def mark_worker_dead(pid: int | None) -> None:
    """Drop a dead worker's live gauges (its counters and histograms stay, so sums never go back)."""
    if pid is None or not os.environ.get(ENV):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


class MetricsAwareMultiprocess(Multiprocess):
    """uvicorn's worker supervisor (restarts dead workers, SIGHUP reload, TTIN/TTOU) plus:

    - the metrics bookkeeping of a worker that is gone (crashed, killed, replaced or stopped);
    - on SIGTERM, an optional drain (SHUTDOWN_DRAIN_SECONDS): readiness answers 503 while the
      workers keep serving, so a load balancer health-checking readiness takes the instance out of
      rotation before it stops accepting (what a Kubernetes preStop sleep does for a Service);
    - then the parent closes its copy of the listening socket, so that, while the workers finish
      their in-flight requests, new connections are refused (a load balancer retries them
      elsewhere) instead of queueing on a socket nobody will accept from.
    """

    def _forget_gone_workers(self, before: set[int | None]) -> None:
        for pid in before - {p.pid for p in self.processes}:
            mark_worker_dead(pid)

    def keep_subprocess_alive(self) -> None:
        before = {p.pid for p in self.processes}
        super().keep_subprocess_alive()
        self._forget_gone_workers(before)

    def restart_all(self) -> None:
        before = {p.pid for p in self.processes}
        super().restart_all()
        self._forget_gone_workers(before)

    def handle_ttou(self) -> None:
        before = {p.pid for p in self.processes}
        super().handle_ttou()
        self._forget_gone_workers(before)

    def _stop_listening(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()

    def handle_term(self) -> None:
        delay = drain_seconds()
        if delay and os.environ.get(ENV):
            Path(os.environ[ENV], DRAIN_FLAG).touch()
            log.info("SIGTERM: draining for %.1fs before stopping (readiness answers 503)", delay)
            time.sleep(delay)
        self._stop_listening()
        super().handle_term()

    def join_all(self) -> None:
        super().join_all()
        for process in self.processes:
            mark_worker_dead(process.pid)
