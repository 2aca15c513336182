"""Entry point shared by the services: `serve` runs uvicorn (N worker processes), anything else is
Litestar's CLI bound to the service's app factory (plus the commands its CLI plugin adds)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence

from shared.settings import BaseServiceSettings

#: seconds a worker waits for in-flight requests after SIGTERM before cancelling them; keep it below
#: Kubernetes' terminationGracePeriodSeconds minus the 15 s pre-stop (env GRACEFUL_SHUTDOWN_SECONDS)
GRACEFUL_SHUTDOWN_SECONDS = 10


def graceful_shutdown_seconds() -> int:
    raw = os.environ.get("GRACEFUL_SHUTDOWN_SECONDS", "")
    return int(raw) if raw.strip().isdigit() else GRACEFUL_SHUTDOWN_SECONDS


def serve(
    app_path: str, settings: BaseServiceSettings, extra_listeners: Sequence[tuple[str, int]] = ()
) -> None:
    """Run the app factory under uvicorn with `settings.workers` processes (0 = one per core).

    `extra_listeners` are further (host, port) sockets served by the same processes and app (core-api's
    internal listener); the app tells them apart by the ASGI `server` address.

    With several workers, a supervisor restarts a worker that dies and, on SIGTERM/SIGINT, stops
    accepting, lets each worker finish its in-flight requests (up to graceful_shutdown_seconds()) and
    run the lifespan shutdown (event consumers, MongoDB, Redis), then exits.
    """
    # before anything imports prometheus_client: workers inherit the variable (see metrics_process)
    from shared.metrics_process import MetricsAwareMultiprocess, prepare_multiprocess_dir

    prepare_multiprocess_dir(settings.service_name, settings.port)

    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    workers = settings.workers or os.cpu_count() or 1  # type: ignore[attr-defined]
    config = uvicorn.Config(
        app_path,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=graceful_shutdown_seconds(),
        log_config=None,
        server_header=False,
    )
    extra = [uvicorn.Config(app_path, host=host, port=port).bind_socket() for host, port in extra_listeners]
    if workers > 1:
        sockets = [config.bind_socket(), *extra]
        try:
            MetricsAwareMultiprocess(config, sockets=sockets).run()
        finally:
            for sock in sockets:
                sock.close()
        return
    config.load_app()
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[config.bind_socket(), *extra] if extra else None)
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def run_service_cli(
    app_path: str,
    settings_factory: Callable[[], BaseServiceSettings],
    *,
    server_app_path: str | None = None,
    extra_listeners: Callable[[BaseServiceSettings], Sequence[tuple[str, int]]] | None = None,
) -> None:
    """`serve` runs `server_app_path` (default `app_path`) on the service port plus `extra_listeners`;
    any other command is Litestar's CLI on `app_path`."""
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        settings = settings_factory()
        serve(server_app_path or app_path, settings, extra_listeners(settings) if extra_listeners else ())
        return
    os.environ.setdefault("LITESTAR_APP", app_path)
    from litestar.cli.main import litestar_group

    litestar_group()
