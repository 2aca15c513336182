"""`core-api serve` runs the API (CORE_API_WORKERS processes) on CORE_API_PORT and its internal routes on
CORE_API_INTERNAL_PORT; `demo-data`, `create-empresa` and `create-indexes` are core-api's operator commands
(core_api.server.cli); the rest is Litestar's CLI. `core-api --help` lists them all."""

from __future__ import annotations

from shared.cli import run_service_cli

from core_api.settings import CoreApiSettings


def main() -> None:
    run_service_cli(
        "core_api.server.app:create_app",
        CoreApiSettings,
        help_text="core-api: `serve` runs the API; `demo-data`, `create-empresa` and `create-indexes` "
        "are operator commands; the others are Litestar's.",
        # the public app on CORE_API_PORT plus the internal routes on their own listener
        server_app_path="core_api.server.app:create_server_app",
        extra_listeners=lambda s: [(s.internal_host, s.internal_port)],
    )


if __name__ == "__main__":
    main()
