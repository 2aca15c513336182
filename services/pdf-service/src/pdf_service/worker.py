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

from pdf_service.domain.jobs import PdfJob, PdfJobProcessor
from pdf_service.lib.storage import DocumentStore
from pdf_service.settings import PdfServiceSettings

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


async def run_worker(settings: PdfServiceSettings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set or SIGTERM/SIGINT arrives."""
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
    try:
        async with worker.bus:
            log.info("pdf worker consuming", extra={"consumer": worker.bus.consumer_name})
            await stop.wait()
            log.info("pdf worker stopping: finishing the document in flight")
    finally:
        await worker.mongo.close()
        log.info("pdf worker stopped")


def main(settings: PdfServiceSettings | None = None) -> None:
    settings = settings or PdfServiceSettings()
    configure_logging(f"{settings.service_name}-worker", settings.log_level, settings.log_json)
    asyncio.run(run_worker(settings))


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
