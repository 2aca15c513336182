"""The PDF worker's own HTTP endpoint: `GET /metrics` (Basic Auth, as on the services) and
`GET /api/v1/health` (liveness) / `/api/v1/health/ready` (MongoDB and Redis), on
PDF_WORKER_METRICS_HOST:PDF_WORKER_METRICS_PORT (default 127.0.0.1:4101).

A tiny Litestar app (the services' own metrics and health controllers), mounted as ASGI routes of
the worker's FastStream application (`pdf_service.worker.worker_app`).

Metrics are kept in prometheus-client's multiprocess mode, in a directory per worker instance
(`PDF_WORKER_MULTIPROC_DIR`, default `<tmp>/prometheus-pdf-service-worker-<port>`), so several
processes of one instance would add up in one scrape and counters never go backwards. The worker
never uses the API's `PROMETHEUS_MULTIPROC_DIR`: the two would wipe each other's files at start.

`prepare` must run before anything imports prometheus-client (it reads the variable at import): it
binds the port first, and only the process that got the port wipes and takes that directory. If the
port is busy (another worker instance on this host), the worker keeps consuming with a private
directory and no endpoint, and says so in its log — give each instance its own port.

This module imports neither prometheus-client nor Litestar at import time, on purpose.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdf_service.settings import PdfServiceSettings

if TYPE_CHECKING:
    from litestar import Litestar

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WORKER_DIR_ENV = "PDF_WORKER_MULTIPROC_DIR"


def _metrics_enabled() -> bool:
    # same rule as shared.metrics_http.metrics_enabled, without importing prometheus-client
    return os.environ.get("METRICS_ENABLED", "true").strip().lower() not in ("0", "false", "no", "off")


@dataclass
class WorkerMetricsSetup:
    """What `prepare` decided: the bound socket (None: no endpoint) and why not, if so."""

    sock: socket.socket | None
    directory: Path
    problem: str | None = None
    private_dir: bool = False

    def cleanup(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
        if self.private_dir:
            shutil.rmtree(self.directory, ignore_errors=True)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # listening now: a second instance on this port fails here, not later
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def prepare(settings: PdfServiceSettings) -> WorkerMetricsSetup:
    """Bind the metrics port and set up the multiprocess directory (before prometheus-client loads)."""
    from shared.metrics_process import MultiprocessDirBusy, claim_multiprocess_dir

    sock: socket.socket | None = None
    problem = None
    if not _metrics_enabled():
        problem = "METRICS_ENABLED is off"
    else:
        try:
            sock = bind(settings.worker_metrics_host, settings.worker_metrics_port)
        except OSError as exc:
            problem = (
                f"cannot listen on {settings.worker_metrics_host}:{settings.worker_metrics_port} ({exc}); "
                "set PDF_WORKER_METRICS_PORT to a free port per worker instance"
            )
    if sock is None:
        private = Path(tempfile.mkdtemp(prefix="prometheus-pdf-worker-"))
        os.environ[MULTIPROC_ENV] = str(private)
        return WorkerMetricsSetup(None, private, problem, private_dir=True)
    port = sock.getsockname()[1]
    os.environ[MULTIPROC_ENV] = os.environ.get(WORKER_DIR_ENV) or str(
        Path(tempfile.gettempdir()) / f"prometheus-{settings.service_name}-worker-{port}"
    )
    try:
        directory = claim_multiprocess_dir(f"{settings.service_name}-worker", port)
    except MultiprocessDirBusy as exc:  # another live worker's files: leave them, serve no endpoint
        sock.close()
        private = Path(tempfile.mkdtemp(prefix="prometheus-pdf-worker-"))
        os.environ[MULTIPROC_ENV] = str(private)
        return WorkerMetricsSetup(None, private, str(exc), private_dir=True)
    return WorkerMetricsSetup(sock, directory)


def build_app(settings: PdfServiceSettings, checks: dict[str, Any]) -> Litestar:
    """`/metrics` (Basic Auth, constant-time) and the health routes, nothing else."""
    from litestar import Litestar
    from shared.health import health_controller
    from shared.metrics_http import metrics_controller

    return Litestar(
        route_handlers=[
            health_controller(f"{settings.service_name}-worker", checks),
            metrics_controller(settings),
        ],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
