"""`pdf-service serve` runs the API (PDF_SERVICE_WORKERS processes); `pdf-service worker` runs the PDF
job consumer; `pdf-service asyncapi [FILE]` writes the AsyncAPI document of the worker's channels;
other commands are Litestar's CLI."""

from __future__ import annotations

import sys
from pathlib import Path

from shared.cli import run_service_cli

from pdf_service.settings import PdfServiceSettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "worker":
        from pdf_service import worker_metrics

        settings = PdfServiceSettings()
        # before prometheus-client is imported: the metrics port and multiprocess directory
        metrics = worker_metrics.prepare(settings)
        from pdf_service.worker import main as worker_main

        worker_main(settings, metrics)
        return
    if command == "asyncapi":
        from pdf_service.worker import write_asyncapi

        target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("docs/asyncapi/pdf-service.json")
        write_asyncapi(target)
        print(f"wrote {target}")
        return
    run_service_cli("pdf_service.server.app:create_app", PdfServiceSettings)


if __name__ == "__main__":
    main()
