"""Entry point shared by the services: `serve` runs uvicorn (N worker processes), anything else is
Litestar's CLI bound to the service's app factory (plus the commands its CLI plugin adds)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from shared.settings import BaseServiceSettings


def run_service_cli(app_path: str, settings_factory: Callable[[], BaseServiceSettings]) -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        import uvicorn

        settings = settings_factory()
        workers = settings.workers or os.cpu_count() or 1  # type: ignore[attr-defined]
        uvicorn.run(
            app_path,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            timeout_graceful_shutdown=10,
            log_config=None,
            server_header=False,
        )
        return
    os.environ.setdefault("LITESTAR_APP", app_path)
    from litestar.cli.main import litestar_group

    litestar_group()
