"""The PDF worker process: a FastStream application consuming `pdf.requested` (run `pdf-service worker`).

`worker_app` is FastStream's `AsgiFastStream`: the broker (Redis Streams or RabbitMQ, by
BROKER_URL) plus the ASGI routes `/metrics` (Basic Auth) and `/api/v1/health[/ready]`; its lifespan
opens MongoDB, warms the renderer up and closes them. (No `/asyncapi` route: FastStream's page loads
its viewer from a CDN and adds a "try it out" endpoint that publishes; the document is generated
into docs/asyncapi by `pdf-service asyncapi`.)
uvicorn serves it on the socket `worker_metrics.prepare` bound, and owns the signals: SIGTERM/SIGINT
stop reading, let the documents in flight finish (bounded by the broker's graceful timeout, the
render time limit + 5 s), acknowledge them and exit. SIGKILL loses nothing: the unacknowledged
message is claimed by another worker after EVENT_CLAIM_IDLE_MS (RabbitMQ requeues it at once).

Procfile: `pdf-worker: python -m pdf_service worker`. Run as many as you like: they share the
consumer group, each with its own consumer name.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beanie import init_beanie
from faststream.asgi import AsgiFastStream
from shared.documents.isolated import IsolatedRenderer
from shared.events import EventBus, bus_from_settings
from shared.infra import mongo_client
from shared.logging import configure_logging
from shared.metrics import initialise_series

from pdf_service.domain.jobs import PdfJob, PdfJobProcessor
from pdf_service.lib.storage import DocumentStore
from pdf_service.settings import PdfServiceSettings
from pdf_service.worker_metrics import WorkerMetricsSetup
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


def worker_app(settings: PdfServiceSettings, worker: Worker) -> AsgiFastStream:
    """The worker as a FastStream ASGI application (nothing runs until it is served)."""
    bus = worker.bus

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        db = worker.mongo[settings.mongodb_db]
        await init_beanie(database=db, document_models=[PdfJob])
        await DocumentStore(db).ensure_indexes()
        await asyncio.to_thread(IsolatedRenderer.warm_up)
        initialise_series(renderers=("pdf-service",), jobs=("pdf",))  # from the first scrape on
        await bus.before_start()
        try:
            yield  # FastStream starts the broker here, and stops it (graceful) before we go on
        finally:
            await bus.close()
            await worker.mongo.close()
            log.info("pdf worker stopped")

    async def consuming() -> None:
        await bus.after_start()
        log.info("pdf worker consuming", extra={"consumer": bus.consumer_name, "broker": bus.kind})

    http = metrics_app(settings, worker)
    return AsgiFastStream(
        bus.broker,
        asgi_routes=[(path, http) for path in ("/metrics", "/api/v1/health", "/api/v1/health/ready")],
        lifespan=lifespan,
        after_startup=[consuming],
        logger=logging.getLogger("pdf_service.worker"),
    )


def metrics_app(settings: PdfServiceSettings, worker: Worker) -> Any:
    """`/metrics` and health (a small Litestar app, the services' own controllers); readiness pings
    MongoDB and the broker."""

    async def mongodb(_: Any) -> None:
        await worker.mongo.admin.command("ping")

    async def broker(_: Any) -> None:
        await worker.bus.ping()

    return build_metrics_app(settings, {"mongodb": mongodb, "broker": broker})


async def run_worker(
    settings: PdfServiceSettings,
    stop: asyncio.Event | None = None,
    metrics: WorkerMetricsSetup | None = None,
    started: asyncio.Event | None = None,
) -> None:
    """Serve the worker app until SIGTERM/SIGINT (or `stop` is set); without a metrics socket it
    runs the same app's lifespan without HTTP. `started` is set once the broker consumes."""
    worker = build_worker(settings)
    app = worker_app(settings, worker)
    if started is not None:

        @app.after_startup
        async def _consuming() -> None:
            started.set()

    stop = stop or asyncio.Event()
    if metrics is not None and metrics.sock is not None:
        import uvicorn

        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", server_header=False)
        server = uvicorn.Server(config)
        # uvicorn handles SIGTERM/SIGINT (graceful shutdown), then raises the signal again under the
        # handlers it found: let that one be a no-op, so a graceful stop exits 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):  # not the main thread (tests): nothing to replace
                signal.signal(sig, lambda *_: None)
        log.info("pdf worker metrics on %s", "{}:{}".format(*metrics.sock.getsockname()[:2]))
        serving = asyncio.create_task(server.serve(sockets=[metrics.sock]))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True  # a no-op when uvicorn stopped on a signal
        stopping.cancel()
        await serving
        return
    if metrics is not None and metrics.problem:
        log.error("pdf worker runs without /metrics: %s", metrics.problem)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with app.start_lifespan_context():
        await stop.wait()
        log.info("pdf worker stopping: finishing the documents in flight")


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
