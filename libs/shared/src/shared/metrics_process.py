"""prometheus-client multiprocess mode for a service run as several uvicorn workers.

Each worker writes its metrics to memory-mapped files in `PROMETHEUS_MULTIPROC_DIR`; `/metrics` (in
any worker) sums them, so a scrape covers every worker and a counter never goes backwards when a
worker dies (its files stay; only its live gauges are dropped). The parent process must:

1. bind its port, then take the directory — an exclusive `flock` on `<dir>/.lock`, held for the
   life of the process, so a second instance (or a `serve` started by mistake on a busy port)
   never touches a live instance's files — and only then wipe the files of a previous run, all
   *before* any worker starts and before prometheus-client is imported in this process (it picks
   its value class at import time) — `claim_multiprocess_dir`, called by `shared.cli`;
2. mark a worker dead when it exits, so `livesum` gauges (requests in progress, jobs in flight) stop
   counting it — `MetricsAwareMultiprocess`, uvicorn's supervisor plus that bookkeeping.

This module does not import prometheus-client at import time, on purpose (see 1).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from socket import socket
from typing import Any

import uvicorn.supervisors.multiprocess as uvicorn_multiprocess
from uvicorn._subprocess import subprocess_started
from uvicorn.config import Config
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


#: the lock file inside the directory; its holder is the instance whose metrics live there
LOCK_FILE = ".lock"
_held_locks: dict[str, int] = {}


class MultiprocessDirBusy(RuntimeError):
    """Another live process holds the directory: its metric files must not be touched."""


def multiprocess_dir(service_name: str, port: int) -> Path:
    """`$PROMETHEUS_MULTIPROC_DIR`, or `<tmp>/prometheus-<service>-<port>` (one per instance)."""
    return Path(
        os.environ.get(ENV)
        or str(
            Path(tempfile.gettempdir()) / f"prometheus-{re.sub(r'[^A-Za-z0-9_.-]', '_', service_name)}-{port}"
        )
    )


def claim_multiprocess_dir(service_name: str, port: int) -> Path:
    """Lock the directory for the life of this process, delete the previous run's `*.db` files,
    export the variable. Call it after binding the port (a busy port must stop a second instance
    before it gets here). Raises MultiprocessDirBusy, having changed nothing, when another live
    process holds it.

    Default: `<tmp>/prometheus-<service>-<port>`, one per service instance on this host. In
    containers, point PROMETHEUS_MULTIPROC_DIR at an emptyDir/tmpfs.
    """
    path = multiprocess_dir(service_name, port)
    path.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    if key not in _held_locks:
        fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise MultiprocessDirBusy(
                f"the metrics directory {path} belongs to a running instance; its files are left alone "
                f"(use another port or {ENV})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _held_locks[key] = fd  # released when this process exits (the kernel drops the lock)
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


_FORK = multiprocessing.get_context("fork")


def preload_app(config: Config) -> None:
    """Build the app once in the `serve` parent, so workers forked from it start with it built.

    `config.load()` imports the app and calls its factory here (uvicorn skips that in a worker whose
    config is loaded already); the OpenAPI document, which Litestar builds when first asked (it was
    7 s of a worker's start-up on this machine under load), is built here too. Nothing here opens
    a connection: clients are created unconnected and the lifespan (which connects) runs in each
    worker.
    """
    config.load()
    for app in _litestar_apps(config.loaded_app):
        app.openapi_schema  # noqa: B018 - built and cached by Litestar's OpenAPI plugin


def _litestar_apps(app: Any, depth: int = 0) -> Iterator[Any]:
    """The Litestar apps inside uvicorn's middleware wrappers (and core-api's listener dispatch)."""
    from litestar import Litestar

    if isinstance(app, Litestar):
        yield app
        return
    if depth > 8:
        return
    for name in ("app", "public", "internal"):
        inner = getattr(app, name, None)
        if inner is not None and inner is not app:
            yield from _litestar_apps(inner, depth + 1)


def _forked_subprocess(config: Config, target: Callable[..., None], sockets: list[socket]) -> Any:
    """uvicorn's `get_subprocess`, with a fork instead of a spawn (the arguments are the same)."""
    return _FORK.Process(
        target=subprocess_started,
        kwargs={"config": config, "target": target, "sockets": sockets, "stdin_fileno": None},
    )


@contextlib.contextmanager
def forked_workers() -> Iterator[None]:
    """Workers forked from the parent instead of spawned (uvicorn's fixed choice) while inside.

    Why: a spawned worker imports the whole app again — measured 9 s per import on this 2-core
    machine under load, two workers at once, so a `serve` restart took 25-30 s before a worker
    even started its lifespan, and every replaced worker paid it again. Forked from a parent that
    built the app (`preload_app`), a worker starts at its lifespan. Safe because the parent has no
    threads, event loop or connections at that point (each worker opens its clients and runs its
    lifespan itself), and prometheus-client's multiprocess values notice the new pid. Only the `serve` parent enters
    this (it is a process of its own); `get_subprocess` is looked up by uvicorn's Process at each
    start, hence the swap of that one name for the life of the supervisor loop.
    """
    if sys.platform != "linux" or not hasattr(uvicorn_multiprocess, "get_subprocess"):
        yield  # an uvicorn without the hook: its own spawn, only slower
        return
    original = uvicorn_multiprocess.get_subprocess
    uvicorn_multiprocess.get_subprocess = _forked_subprocess
    try:
        yield
    finally:
        uvicorn_multiprocess.get_subprocess = original


class MetricsAwareMultiprocess(Multiprocess):
    """uvicorn's worker supervisor (restarts dead workers, SIGHUP reload, TTIN/TTOU) plus:

    - workers forked from this parent, which imported the app (`forked_workers`): fast (re)starts;

    - the metrics bookkeeping of a worker that is gone (crashed, killed, replaced or stopped);
    - on SIGTERM, an optional drain (SHUTDOWN_DRAIN_SECONDS): readiness answers 503 while the
      workers keep serving, so a load balancer health-checking readiness takes the instance out of
      rotation before it stops accepting (what a Kubernetes preStop sleep does for a Service);
    - then the parent closes its copy of the listening socket, so that, while the workers finish
      their in-flight requests, new connections are refused (a load balancer retries them
      elsewhere) instead of queueing on a socket nobody will accept from.
    """

    def run(self) -> None:
        with forked_workers():
            super().run()

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
