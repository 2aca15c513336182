"""The PDF job lease under a race: 20 deliveries of one job at once, each through its own worker
(own MongoDB client and connection pool) on the real FerretDB: one renders, none duplicates."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pdf_service.domain.jobs.service import PdfJobProcessor
from pdf_service.lib.storage import DocumentStore
from pymongo import AsyncMongoClient
from shared.documents.isolated import IsolatedRenderer
from shared.documents.samples import sample_snapshot
from shared.events import PDF_FAILED, PDF_GENERATED, PdfRequestedV1, bus_from_settings, new_event

from ..conftest import wait_until

EMPRESA = "665f00000000000000000001"
N = 20


async def test_20_concurrent_deliveries_of_one_job_render_it_once(pdf_settings):
    outcomes: list[Any] = []
    listener = bus_from_settings(pdf_settings.model_copy(update={"service_name": "core-api"}))

    async def collect(event: Any) -> None:
        outcomes.append(event)

    listener.subscribe(PDF_GENERATED, collect)
    listener.subscribe(PDF_FAILED, collect)
    bus = bus_from_settings(pdf_settings)
    bus.declare_publisher(PDF_GENERATED)
    bus.declare_publisher(PDF_FAILED)
    renderer = IsolatedRenderer(timeout=30, max_parallel=2)
    clients = [AsyncMongoClient(pdf_settings.mongodb_url, tz_aware=True, maxPoolSize=2) for _ in range(N)]
    try:
        async with listener, bus:
            processors = [
                PdfJobProcessor(
                    c[pdf_settings.mongodb_db], DocumentStore(c[pdf_settings.mongodb_db]), bus, renderer, 20
                )
                for c in clients
            ]
            snapshot = sample_snapshot("pi", empresa_id=EMPRESA)
            job_id = uuid.uuid4().hex
            payload = PdfRequestedV1(
                job_id=job_id, kind=snapshot.kind, source_id=snapshot.source_id, snapshot=snapshot
            )
            # a redelivery is a new event id for the same job (a client retried, the bus re-sent)
            events = [new_event(payload, empresa_id=EMPRESA) for _ in range(N)]
            await asyncio.gather(*(p.handle_requested(e) for p, e in zip(processors, events, strict=True)))
            db = clients[0][pdf_settings.mongodb_db]
            job = await db["pdf_jobs"].find_one({"_id": job_id})
            assert job["attempts"] == 1, "exactly one delivery took the lease and rendered"
            assert job["status"] == "done"
            assert await DocumentStore(db).count_for_job(job_id) == 1
            assert await db["leases"].count_documents({"_id": f"pdf_jobs:{job_id}"}) == 0, "lease given back"
            await wait_until(lambda: _async(len(outcomes) >= 1))
            # every generated outcome is the same event (consumers de-duplicate by its id)
            assert {e.event_id for e in outcomes} == {f"pdf-generated-{job_id}"}
    finally:
        for c in clients:
            await c.close()


async def _async(value: Any) -> Any:
    return value
