"""The PDF worker process: a FastStream consumer of `pdf.requested` (run `pdf-service worker`).

Procfile: `pdf-worker: python -m pdf_service worker`. Run as many as you like: they share the
consumer group, each with its own consumer name. SIGTERM/SIGINT: stop reading, let the document in
flight finish (bounded by the render time limit), acknowledge it, exit. SIGKILL loses nothing: the
unacknowledged message is claimed by another worker after EVENT_CLAIM_IDLE_MS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beanie import init_beanie
from shared.documents.isolated import IsolatedRenderer
from shared.events import EventBus, bus_from_settings
from shared.infra import mongo_client
from shared.logging import configure_logging
from shared.metrics import initialise_series

from pdf_service.domain.jobs import PdfJob, PdfJobProcessor
from pdf_service.lib.storage import DocumentStore
from pdf_service.settings import PdfServiceSettings
from pdf_service.worker_metrics import MetricsEndpoint, WorkerMetricsSetup
from pdf_service.worker_metrics import build_app as build_metrics_app

log = logging.getLogger("pdf_service.worker")


@dataclass
class Worker:
    settings: PdfServiceSettings
    bus: EventBus
    processor: PdfJobProcessor
    mongo: Any


def build_worker(settings: PdfServiceSettings, **bus_options: Any) -> Worker:
    """Wire the bus, the store and the processor (nothing is connected yet)."""
    mongo = mongo_client(settings)
    db = mongo[settings.mongodb_db]
    bus_options.setdefault("graceful_timeout", settings.render_timeout_seconds + 5)
    bus = bus_from_settings(settings, **bus_options)
    renderer = IsolatedRenderer(
        timeout=settings.render_timeout_seconds, max_parallel=settings.worker_concurrency
    )
    processor = PdfJobProcessor(db, DocumentStore(db), bus, renderer, settings.job_lease_seconds)
    processor.register(bus, concurrency=settings.worker_concurrency)
    return Worker(settings, bus, processor, mongo)


async def run_worker(
    settings: PdfServiceSettings,
    stop: asyncio.Event | None = None,
    metrics: WorkerMetricsSetup | None = None,
) -> None:
    """Run until `stop` is set or SIGTERM/SIGINT arrives; serve /metrics if `metrics` has a socket."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    worker = build_worker(settings)
    db = worker.mongo[settings.mongodb_db]
    await init_beanie(database=db, document_models=[PdfJob])
    await DocumentStore(db).ensure_indexes()
    await asyncio.to_thread(IsolatedRenderer.warm_up)
    initialise_series(renderers=("pdf-service",), jobs=("pdf",))  # from the first scrape on
    endpoint = None
    if metrics is not None and metrics.sock is not None:
        endpoint = MetricsEndpoint(metrics_app(settings, worker), metrics.sock)
        await endpoint.start()
        log.info("pdf worker metrics on %s", "{}:{}".format(*metrics.sock.getsockname()[:2]))
    elif metrics is not None and metrics.problem:
        log.error("pdf worker runs without /metrics: %s", metrics.problem)
    try:
        async with worker.bus:
            log.info("pdf worker consuming", extra={"consumer": worker.bus.consumer_name})
            await stop.wait()
            log.info("pdf worker stopping: finishing the document in flight")
    finally:
        # the endpoint stops last, so a scrape during shutdown still sees the final counts
        if endpoint is not None:
            await endpoint.stop()
        await worker.mongo.close()
        log.info("pdf worker stopped")


def metrics_app(settings: PdfServiceSettings, worker: Worker) -> Any:
    """The worker's /metrics and health app; readiness pings MongoDB and the broker."""

    async def mongodb(_: Any) -> None:
        await worker.mongo.admin.command("ping")

    async def broker(_: Any) -> None:
        await worker.bus.ping()

    return build_metrics_app(settings, {"mongodb": mongodb, "redis": broker})


def main(settings: PdfServiceSettings | None = None, metrics: WorkerMetricsSetup | None = None) -> None:
    """`metrics` comes from `worker_metrics.prepare`, called before prometheus-client was imported."""
    settings = settings or PdfServiceSettings()
    configure_logging(f"{settings.service_name}-worker", settings.log_level, settings.log_json)
    try:
        asyncio.run(run_worker(settings, metrics=metrics))
    finally:
        if metrics is not None:
            metrics.cleanup()


def asyncapi_document(settings: PdfServiceSettings | None = None) -> dict[str, Any]:
    """AsyncAPI 3.0 of the worker's channels, stable across runs (placeholder consumer name)."""
    settings = settings or PdfServiceSettings(redis_url="redis://redis:6379/0", broker_url=None)
    worker = build_worker(settings, consumer_name="<hostname>-<pid>-<random>")
    return worker.bus.asyncapi(
        title="pdf-service events",
        description="Channels the PDF worker consumes and publishes (Redis Streams, consumer group per service).",
    )


def write_asyncapi(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asyncapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n")
