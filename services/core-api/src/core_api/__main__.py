"""`core-api serve` runs the API (CORE_API_WORKERS processes); other commands are Litestar's CLI."""

from __future__ import annotations

from shared.cli import run_service_cli

from core_api.settings import CoreApiSettings


def main() -> None:
    run_service_cli("core_api.server.app:create_app", CoreApiSettings)


if __name__ == "__main__":
    main()
