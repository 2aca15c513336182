"""The async PDF path with a real worker, Redis, FerretDB (GridFS) and WeasyPrint; request → render →
outcome on both brokers (Redis Streams and RabbitMQ, `event_broker`)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from pdf_service.lib.storage import DocumentStore, document_id_for
from pdf_service.worker import run_worker
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient
from shared.documents.samples import sample_snapshot
from shared.events import (
    PDF_FAILED,
    PDF_GENERATED,
    PDF_REQUESTED,
    PdfRequestedV1,
    bus_from_settings,
    new_event,
)
from shared.metrics import sample_stream_backlog

from ..conftest import wait_until

EMPRESA = "665f00000000000000000001"
OTHER_EMPRESA = "665f00000000000000000999"


@dataclass
class CoreApiSide:
    """What core-api does: publish pdf.requested, collect pdf.generated / pdf.failed."""

    bus: object
    outcomes: list = field(default_factory=list)

    async def request(self, job_id: str, snapshot=None, event_id: str | None = None):
        snapshot = snapshot or sample_snapshot("pi", empresa_id=EMPRESA)
        payload = PdfRequestedV1(
            job_id=job_id, kind=snapshot.kind, source_id=snapshot.source_id, snapshot=snapshot
        )
        event = new_event(payload, empresa_id=EMPRESA, event_id=event_id)
        await self.bus.publish(PDF_REQUESTED, event)
        return event

    def outcome(self, job_id: str):
        return [e for e in self.outcomes if e.data.job_id == job_id]


@pytest.fixture
async def core_api(pdf_settings) -> AsyncIterator[CoreApiSide]:
    settings = pdf_settings.model_copy(update={"service_name": "core-api"})
    bus = bus_from_settings(settings)
    side = CoreApiSide(bus)

    async def collect(event):
        side.outcomes.append(event)

    bus.subscribe(PDF_GENERATED, collect)
    bus.subscribe(PDF_FAILED, collect)
    bus.declare_publisher(PDF_REQUESTED)
    async with bus:
        yield side


@pytest.fixture
async def worker(pdf_settings) -> AsyncIterator[None]:
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_worker(pdf_settings, stop, started=started))

    async def consuming() -> bool:
        assert not task.done(), task.exception() if task.done() else None
        return started.is_set()

    # on RabbitMQ a queue only gets what is published once it exists: wait until the worker consumes
    await wait_until(consuming, timeout=120, what="the worker consuming")
    yield
    stop.set()
    await asyncio.wait_for(task, 60)


@pytest.fixture
async def pdf_db(pdf_settings):
    client = AsyncMongoClient(pdf_settings.mongodb_url, tz_aware=True)
    yield client[pdf_settings.mongodb_db]
    await client.close()


BOTH_BROKERS = pytest.mark.parametrize("event_broker", ["redis", "rabbitmq"], indirect=True)


@BOTH_BROKERS
async def test_requested_pdf_is_generated_stored_and_downloadable(
    core_api, worker, pdf_client, token_for, pdf_db
):
    job_id = uuid.uuid4().hex
    request = await core_api.request(job_id)
    [generated] = await wait_until(lambda: _async(core_api.outcome(job_id)))
    assert generated.type == "pdf.generated"
    assert generated.correlation_id == request.correlation_id and generated.causation_id == request.event_id
    assert generated.data.document_id == str(document_id_for(job_id))
    assert generated.data.filename == "pi-2026-0042-padaria-sao-joao-ltda.pdf" and generated.data.pages == 1

    assert generated.data.attempts == 1
    # pdf-service's working record of the job (the job resource clients read is core-api's)
    job = await pdf_db["pdf_jobs"].find_one({"_id": job_id})
    assert (job["status"], job["document_id"], job["attempts"]) == ("done", generated.data.document_id, 1)
    assert job["empresa_id"] == EMPRESA and job.get("error") is None
    r = await pdf_client.get(f"/api/v1/pdf-jobs/{job_id}", headers=token_for(EMPRESA))
    assert r.status_code == 404, "GET /api/v1/pdf-jobs/{id} is core-api's resource, not a route here"
    body = {"documentId": generated.data.document_id}

    r = await pdf_client.get(f"/api/v1/documents/{body['documentId']}", headers=token_for(EMPRESA))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="pi-2026-0042-padaria-sao-joao-ltda.pdf"'
    sha = hashlib.sha256(r.content).hexdigest()
    assert r.headers["etag"] == f'"{sha}"' and sha == generated.data.sha256
    assert r.content.startswith(b"%PDF-") and len(r.content) == generated.data.size_bytes
    r = await pdf_client.get(
        f"/api/v1/documents/{body['documentId']}", headers={**token_for(EMPRESA), "If-None-Match": f'"{sha}"'}
    )
    assert r.status_code == 304


async def test_routes_are_scoped_by_empresa_and_need_a_token(core_api, worker, pdf_client, token_for):
    job_id = uuid.uuid4().hex
    await core_api.request(job_id)
    [generated] = await wait_until(lambda: _async(core_api.outcome(job_id)))
    document_id = generated.data.document_id
    path = f"/api/v1/documents/{document_id}"
    assert (await pdf_client.get(path, headers=token_for(EMPRESA))).status_code == 200
    assert (await pdf_client.get(path, headers=token_for(OTHER_EMPRESA))).status_code == 404
    assert (await pdf_client.get(path)).status_code == 401
    assert (
        await pdf_client.get(path, headers={"Authorization": "Bearer forged.token.here"})
    ).status_code == 401
    assert (
        await pdf_client.get("/api/v1/documents/not-an-id", headers=token_for(EMPRESA))
    ).status_code == 404


@BOTH_BROKERS
async def test_duplicate_deliveries_store_one_document(core_api, worker, pdf_db, pdf_settings, event_broker):
    def handled() -> float:
        return sum(
            REGISTRY.get_sample_value(
                "events_consumed_total", {"topic": PDF_REQUESTED, "group": "pdf-service", "outcome": outcome}
            )
            or 0.0
            for outcome in ("success", "duplicate")
        )

    before = handled()  # the worker runs in this process: its counters are ours
    job_id = uuid.uuid4().hex
    first = await core_api.request(job_id)
    await core_api.request(job_id)  # same job, new event id (a client retried)
    await core_api.bus.publish(PDF_REQUESTED, first)  # the very same event again
    await wait_until(lambda: _async(len(core_api.outcome(job_id)) >= 1))

    async def all_three_handled():
        # every delivery read by the worker's group and acknowledged: the duplicates ran through
        if event_broker == "rabbitmq":
            return handled() - before == 3
        stream = f"{pdf_settings.event_stream_prefix}{PDF_REQUESTED}"
        backlog = await sample_stream_backlog(core_api.bus.redis, stream, groups={"pdf-service"})
        return backlog.get("pdf-service") == {"pending": 0, "lag": 0}

    await wait_until(all_three_handled, what="all three deliveries handled")
    store = DocumentStore(pdf_db)
    assert await store.count_for_job(job_id) == 1
    job = await pdf_db["pdf_jobs"].find_one({"_id": job_id})
    assert job["status"] == "done" and job["attempts"] == 1
    ids = {e.event_id for e in core_api.outcome(job_id)}
    assert ids == {f"pdf-generated-{job_id}"}  # re-published outcomes are recognisably the same event


@pytest.mark.pdf_timing(render_timeout_seconds=2.0, event_claim_idle_ms=3000)
async def test_a_document_too_slow_to_render_fails_the_job(core_api, worker, pdf_db, pdf_settings):
    job_id = uuid.uuid4().hex
    await core_api.request(job_id, snapshot=sample_snapshot("contrato", placas=3000, empresa_id=EMPRESA))
    [failed] = await wait_until(lambda: _async(core_api.outcome(job_id)), timeout=120)
    assert failed.type == "pdf.failed" and "longer than 2s" in failed.data.error
    job = await pdf_db["pdf_jobs"].find_one({"_id": job_id})
    assert job["status"] == "failed" and "longer than" in job["error"] and job.get("document_id") is None
    assert failed.data.attempts == job["attempts"] >= 1


async def _async(value):
    return value
