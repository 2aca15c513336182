"""`pdf-service serve` runs the API (PDF_SERVICE_WORKERS processes); `pdf-service worker` runs the PDF
job consumer; `pdf-service asyncapi [FILE]` writes the AsyncAPI document of the worker's channels;
the rest is Litestar's CLI. `pdf-service --help` lists them all."""

from __future__ import annotations

from pathlib import Path

import click
from shared.cli import run_service_cli

from pdf_service.settings import PdfServiceSettings

ASYNCAPI_FILE = Path("docs/asyncapi/pdf-service.json")


@click.command(
    name="worker",
    help="Consume PDF jobs from the event broker (BROKER_URL: Redis Streams or RabbitMQ) and render them, "
    "as a FastStream app serving /metrics and health on PDF_WORKER_METRICS_HOST:PDF_WORKER_METRICS_PORT. "
    "SIGTERM finishes the current jobs, then exits.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="port of the worker's /metrics and health [env PDF_WORKER_METRICS_PORT, default 4101]",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="documents rendered at the same time [env PDF_WORKER_CONCURRENCY, default 1]",
)
def worker_command(metrics_port: int | None, concurrency: int | None) -> None:
    from pdf_service import worker_metrics

    settings = PdfServiceSettings()
    updates = {"worker_metrics_port": metrics_port, "worker_concurrency": concurrency}
    settings = settings.model_copy(update={k: v for k, v in updates.items() if v is not None})
    # before prometheus-client is imported: the metrics port and multiprocess directory
    metrics = worker_metrics.prepare(settings)
    from pdf_service.worker import main as worker_main

    worker_main(settings, metrics)


@click.command(
    name="asyncapi",
    help="Write the AsyncAPI document of the PDF worker's channels to TARGET (default docs/asyncapi/pdf-service.json).",
)
@click.argument(
    "target",
    required=False,
    default=str(ASYNCAPI_FILE),
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
)
def asyncapi_command(target: Path) -> None:
    """TARGET: the JSON file to write (default docs/asyncapi/pdf-service.json)."""
    from pdf_service.worker import write_asyncapi

    write_asyncapi(target)
    click.echo(f"wrote {target}")


def main() -> None:
    run_service_cli(
        "pdf_service.server.app:create_app",
        PdfServiceSettings,
        commands=[worker_command, asyncapi_command],
        help_text="pdf-service: `serve` runs the API, `worker` the PDF job consumer, `asyncapi` writes the "
        "worker's AsyncAPI document; the others are Litestar's.",
    )


if __name__ == "__main__":
    main()
