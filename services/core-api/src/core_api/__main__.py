"""`core-api serve` runs the API (CORE_API_WORKERS processes) on CORE_API_PORT and its internal routes on
CORE_API_INTERNAL_PORT; other commands are Litestar's CLI."""

from __future__ import annotations

from shared.cli import run_service_cli

from core_api.settings import CoreApiSettings


def main() -> None:
    run_service_cli(
        "core_api.server.app:create_app",
        CoreApiSettings,
        # the public app on CORE_API_PORT plus the internal routes on their own listener
        server_app_path="core_api.server.app:create_server_app",
        extra_listeners=lambda s: [(s.internal_host, s.internal_port)],  # type: ignore[attr-defined]
    )


if __name__ == "__main__":
    main()
