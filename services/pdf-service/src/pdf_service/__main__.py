"""`pdf-service serve` runs the API (PDF_SERVICE_WORKERS processes); other commands are Litestar's CLI."""

from __future__ import annotations

from shared.cli import run_service_cli

from pdf_service.settings import PdfServiceSettings


def main() -> None:
    run_service_cli("pdf_service.server.app:create_app", PdfServiceSettings)


if __name__ == "__main__":
    main()
