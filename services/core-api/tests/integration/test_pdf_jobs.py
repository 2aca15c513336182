"""core-api's side of the async PDF path, on real Redis Streams and FerretDB.

POST /{pis,contratos}/{id}/pdf-jobs → 202 and a `pdf.requested` event on the stream that validates
against the exported JSON Schema and parses as pdf-service's consumer parses it; tenant scoping;
409 for a cancelled PI; the outbox when Redis is down; idempotent `pdf.generated` / `pdf.failed`
handling; SSE notifications of the caller's empresa only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import uvicorn
from bson import ObjectId
from core_api.domain.demo import DEMO_EMAIL, load_demo_data
from core_api.domain.pdf_jobs.outcomes import record_pdf_failed, record_pdf_generated
from core_api.domain.pis.models import PI
from core_api.domain.users.models import User
from core_api.lib.repository import TenantRepository
from devstack.servers import free_port, start_redis
from faststream.redis.parser.binary import BinaryMessageFormatV1
from redis.asyncio import Redis
from shared.auth import issue_token
from shared.events import (
    PDF_FAILED,
    PDF_GENERATED,
    PDF_REQUESTED,
    PdfFailedV1,
    PdfGeneratedV1,
    PdfRequestedV1,
    bus_from_settings,
    envelope_type,
    event_json_schema,
    new_event,
    parse_event,
)

from .test_pis import pi_body

PIS = "/api/v1/pis"


@pytest.fixture
def dedicated_redis(request: pytest.FixtureRequest, workdir: Path) -> Any:
    """A Redis of the test's own (AOF on, like `make up`) for tests that stop it; asked for with
    `@pytest.mark.parametrize("dedicated_redis", [True], indirect=True)`."""
    if not getattr(request, "param", False):
        return None
    srv = start_redis(workdir / "redis", persist=True)
    request.addfinalizer(srv.stop)
    return srv


@pytest.fixture
def core_settings(core_settings, unique_name, dedicated_redis):  # type: ignore[no-untyped-def]
    """The app's settings with streams of this test's own (EVENT_STREAM_PREFIX), so its consumer
    group never takes events of another test or of the contract stack."""
    update: dict[str, Any] = {"event_stream_prefix": f"t-{unique_name}:"}
    if dedicated_redis is not None:
        # the broker only (BROKER_URL): with REDIS_URL down no token is accepted at all (the token
        # revocation store fails closed, docs/security.md), so a broker outage is what the outbox is for
        update["broker_url"] = dedicated_redis.url
    return core_settings.model_copy(update=update)


@pytest.fixture
async def redis(core_settings) -> AsyncIterator[Redis]:  # type: ignore[no-untyped-def]
    client = Redis.from_url(core_settings.redis_url)
    yield client
    await client.aclose()


def events_ready(core_client) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app's event bus is started (it starts in the background after MongoDB)."""
    deadline = time.monotonic() + 20
    while not core_client.app.state.pdf_outbox.ready.is_set():
        assert time.monotonic() < deadline, "the event bus did not start"
        time.sleep(0.05)


async def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        assert time.monotonic() < deadline, f"condition not met within {timeout}s"
        await asyncio.sleep(interval)


async def stream_bodies(redis: Redis, stream: str) -> list[dict[str, Any]]:
    """The JSON bodies on a stream, decoded from FastStream's wire format the way its parser does."""
    bodies = []
    for _, fields in await redis.xrange(stream):
        data, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
        bodies.append(json.loads(data))
    return bodies


async def new_pi(core_client, make_tenant, make_inventario, placas: int = 2):  # type: ignore[no-untyped-def]
    tenant = await make_tenant("PDF")
    inv = make_inventario(tenant, placas=placas)
    r = await core_client.post(
        PIS, json=pi_body(inv, placas=tuple(range(placas))), headers=tenant.user_headers
    )
    assert r.status_code == 201, r.text
    return tenant, inv, r.json()


def generated(job_id: str, kind: str, source_id: str, document_id: str = "6650aa00000000000000abcd"):
    return PdfGeneratedV1(
        job_id=job_id,
        kind=kind,
        source_id=source_id,
        document_id=document_id,
        filename=f"{kind}-{source_id}.pdf",
        sha256=hashlib.sha256(job_id.encode()).hexdigest(),
        size_bytes=12345,
        pages=1,
    )


@pytest.fixture
async def pdf_service_side(core_settings):  # type: ignore[no-untyped-def]
    """A bus named like pdf-service on the test's streams, to publish outcomes as the worker does."""
    bus = bus_from_settings(core_settings.model_copy(update={"service_name": "pdf-service"}))
    await bus.start()
    yield bus
    await bus.stop()


async def test_pi_pdf_job_is_accepted_and_published_as_the_schema_says(
    core_client, make_tenant, make_inventario, redis, core_settings
):
    tenant, inv, pi = await new_pi(core_client, make_tenant, make_inventario)
    events_ready(core_client)
    r = await core_client.post(
        f"{PIS}/{pi['id']}/pdf-jobs", headers={**tenant.user_headers, "X-Request-ID": "req-pdf-1"}
    )
    assert r.status_code == 202, r.text
    body = r.json()
    job_id = body["jobId"]
    assert body == {
        "jobId": job_id,
        "status": "pending",
        "statusUrl": f"/api/v1/pdf-jobs/{job_id}",
        "queued": True,
    }
    assert r.headers["location"] == f"/api/v1/pdf-jobs/{job_id}"

    # the event is on the real stream already (202 means Redis accepted it)
    [raw] = await stream_bodies(redis, f"{core_settings.event_stream_prefix}{PDF_REQUESTED}")
    jsonschema.Draft202012Validator(event_json_schema(PDF_REQUESTED, 1)).validate(raw)
    # what pdf-service's subscriber does with it: FastStream validates the body against the
    # topic's envelope type; the bus's parse_event picks the type from type/schemaVersion
    consumed = envelope_type(PdfRequestedV1).model_validate(raw)
    assert parse_event(raw) == consumed
    assert consumed.empresa_id == tenant.empresa_id
    assert consumed.correlation_id == "req-pdf-1"
    d = consumed.data
    assert (d.job_id, d.kind, d.source_id, d.requested_by) == (job_id, "pi", pi["id"], tenant.user_id)
    assert d.snapshot.cliente.id == inv.cliente_ids[0]
    assert [p.id for p in d.snapshot.placas] == pi["placaIds"]
    assert d.snapshot.valor_total_centavos == pi["valorTotalCentavos"]

    # core-api keeps its own record of the job
    jobs = (await core_client.get(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)).json()
    assert [(j["jobId"], j["status"], j["queued"], j["correlationId"]) for j in jobs] == [
        (job_id, "pending", True, "req-pdf-1")
    ]


async def test_contrato_pdf_job(core_client, make_tenant, make_inventario, redis, core_settings):
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario, placas=1)
    contrato = await core_client.post(
        "/api/v1/contratos", json={"piId": pi["id"]}, headers=tenant.user_headers
    )
    assert contrato.status_code == 201, contrato.text
    events_ready(core_client)
    cid = contrato.json()["id"]
    r = await core_client.post(f"/api/v1/contratos/{cid}/pdf-jobs", headers=tenant.user_headers)
    assert r.status_code == 202, r.text
    [raw] = await stream_bodies(redis, f"{core_settings.event_stream_prefix}{PDF_REQUESTED}")
    event = parse_event(raw)
    assert (event.data.kind, event.data.source_id, event.data.snapshot.numero) == (
        "contrato",
        cid,
        contrato.json()["codigo"],
    )
    assert event.data.snapshot.pi_numero


async def test_other_empresas_and_unknown_ids_are_404_and_publish_nothing(
    core_client, make_tenant, make_inventario, redis, core_settings, raw_db
):
    _, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    intruder = await make_tenant("Intrusa")
    events_ready(core_client)
    for url in (
        f"{PIS}/{pi['id']}/pdf-jobs",
        f"{PIS}/6650aa00000000000000abcd/pdf-jobs",
        f"{PIS}/not-an-id/pdf-jobs",
        "/api/v1/contratos/6650aa00000000000000abcd/pdf-jobs",
    ):
        r = await core_client.post(url, headers=intruder.admin_headers)
        assert r.status_code == 404, (url, r.text)
    r = await core_client.get(f"{PIS}/{pi['id']}/pdf-jobs", headers=intruder.admin_headers)
    assert r.status_code == 404
    assert await stream_bodies(redis, f"{core_settings.event_stream_prefix}{PDF_REQUESTED}") == []
    assert await raw_db["pdf_requests"].count_documents({}) == 0
    assert (await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs")).status_code == 401


async def test_cancelled_pi_is_409(core_client, make_tenant, make_inventario, redis, core_settings, raw_db):
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    cancel = await core_client.post(f"{PIS}/{pi['id']}/cancel", headers=tenant.user_headers)
    assert cancel.status_code == 200
    r = await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)
    assert r.status_code == 409
    assert "cancelada" in r.json()["detail"]
    assert await raw_db["pdf_requests"].count_documents({}) == 0


async def test_duplicated_pdf_generated_records_one_document(
    core_client, make_tenant, make_inventario, pdf_service_side, raw_db
):
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    events_ready(core_client)
    job_id = (await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)).json()[
        "jobId"
    ]
    outcome = generated(job_id, "pi", pi["id"])
    # the same event twice (the bus skips a known event id) and the outcome re-published under a
    # new event id (the bus cannot tell): the handler itself must be idempotent
    first = new_event(outcome, empresa_id=tenant.empresa_id, event_id=f"pdf-generated-{job_id}")
    await pdf_service_side.publish(PDF_GENERATED, first)
    await pdf_service_side.publish(PDF_GENERATED, first)
    await pdf_service_side.publish(PDF_GENERATED, new_event(outcome, empresa_id=tenant.empresa_id))

    async def recorded():
        return await raw_db["pdf_requests"].find_one({"job_id": job_id, "status": "done"})

    await wait_for(recorded)

    async def all_handled():
        groups = await pdf_service_side.redis.xinfo_groups(pdf_service_side.stream(PDF_GENERATED))
        core = next(g for g in groups if g["name"] == b"core-api")
        return core["pending"] == 0 and core["entries-read"] == 3

    await wait_for(all_handled)
    r = await core_client.get(f"{PIS}/{pi['id']}", headers=tenant.user_headers)
    docs = r.json()["documentos"]
    assert len(docs) == 1
    assert docs[0] | {"generatedAt": None} == {
        "documentId": outcome.document_id,
        "jobId": job_id,
        "filename": outcome.filename,
        "checksum": outcome.sha256,
        "sizeBytes": 12345,
        "pages": 1,
        "generatedAt": None,
        "downloadUrl": f"/api/v1/documents/{outcome.document_id}",
    }
    jobs = (await core_client.get(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)).json()
    assert [(j["status"], j["documentId"]) for j in jobs] == [("done", outcome.document_id)]
    # a late pdf.failed for a done job does not undo it
    failed = PdfFailedV1(job_id=job_id, kind="pi", source_id=pi["id"], error="late", attempts=1)
    await pdf_service_side.publish(PDF_FAILED, new_event(failed, empresa_id=tenant.empresa_id))
    await asyncio.sleep(0.5)
    assert (await raw_db["pdf_requests"].find_one({"job_id": job_id}))["status"] == "done"


async def test_pdf_failed_marks_the_job_and_unknown_jobs_are_ignored(
    core_client, make_tenant, make_inventario, pdf_service_side, raw_db
):
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    events_ready(core_client)
    job_id = (await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)).json()[
        "jobId"
    ]
    # an outcome naming this job under another empresa is not applied to it
    stranger = PdfFailedV1(job_id=job_id, kind="pi", source_id=pi["id"], error="nope", attempts=1)
    await pdf_service_side.publish(PDF_FAILED, new_event(stranger, empresa_id="6650aa00000000000000ffff"))
    failed = PdfFailedV1(job_id=job_id, kind="pi", source_id=pi["id"], error="render timeout", attempts=2)
    await pdf_service_side.publish(PDF_FAILED, new_event(failed, empresa_id=tenant.empresa_id))

    async def marked():
        return await raw_db["pdf_requests"].find_one({"job_id": job_id, "status": "failed"})

    record = await wait_for(marked)
    assert record["error"] == "render timeout"
    pi_now = (await core_client.get(f"{PIS}/{pi['id']}", headers=tenant.user_headers)).json()
    assert pi_now["documentos"] == []


async def test_sse_streams_the_callers_empresa_events_only(
    core_client, make_tenant, make_inventario, pdf_service_side
):
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    other, _, other_pi = await new_pi(core_client, make_tenant, make_inventario)
    events_ready(core_client)
    mine = (await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)).json()["jobId"]
    theirs = (await core_client.post(f"{PIS}/{other_pi['id']}/pdf-jobs", headers=other.user_headers)).json()[
        "jobId"
    ]
    received: list[tuple[str, dict[str, Any]]] = []
    # a real HTTP server on the app's own loop (lifespan already running), so the stream is real
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(core_client.app, port=port, lifespan="off", log_level="warning"))
    serving = core_client.blocking_portal.start_task_soon(server.serve)
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            await asyncio.sleep(0.02)

        async def listen() -> None:
            async with (
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client,
                client.stream("GET", "/api/v1/events", headers=tenant.user_headers) as r,
            ):
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
                connected.set()
                event = None
                async for line in r.aiter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        received.append((event or "", json.loads(line[6:])))
                        if len(received) == 2:
                            return

        connected = asyncio.Event()
        listener = asyncio.create_task(asyncio.wait_for(listen(), 20))
        await asyncio.wait_for(connected.wait(), 10)
        await pdf_service_side.publish(
            PDF_GENERATED, new_event(generated(theirs, "pi", other_pi["id"]), empresa_id=other.empresa_id)
        )
        await pdf_service_side.publish(
            PDF_GENERATED, new_event(generated(mine, "pi", pi["id"]), empresa_id=tenant.empresa_id)
        )
        failed = PdfFailedV1(job_id=mine, kind="pi", source_id=pi["id"], error="x", attempts=1)
        await pdf_service_side.publish(PDF_FAILED, new_event(failed, empresa_id=tenant.empresa_id))
        await listener
    finally:
        server.should_exit = True
        await asyncio.wrap_future(serving)
    assert {e for e, _ in received} == {"pdf.generated", "pdf.failed"}
    assert all(n["jobId"] == mine for _, n in received)
    gen = next(n for e, n in received if e == "pdf.generated")
    assert (gen["kind"], gen["sourceId"], gen["documentId"]) == ("pi", pi["id"], "6650aa00000000000000abcd")


async def test_sse_needs_authentication(core_client):
    assert (await core_client.get("/api/v1/events")).status_code == 401


@pytest.mark.parametrize("dedicated_redis", [True], indirect=True)
async def test_outbox_delivers_after_redis_returns(
    core_client, make_tenant, make_inventario, dedicated_redis, core_settings, raw_db
):
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    events_ready(core_client)
    dedicated_redis.stop()

    started = time.monotonic()
    r = await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)
    elapsed = time.monotonic() - started
    assert r.status_code == 202, r.text
    assert r.json()["queued"] is False
    assert elapsed < 10, f"the request waited {elapsed:.1f}s on a dead broker"
    job_id = r.json()["jobId"]
    record = await raw_db["pdf_requests"].find_one({"job_id": job_id})
    assert record["published_at"] is None and record["last_publish_error"]
    assert record["event"]["data"]["jobId"] == job_id

    # the relay keeps trying while Redis is down, and nothing is marked published
    await asyncio.sleep(2 * 1.0 + 3)
    assert (await raw_db["pdf_requests"].find_one({"job_id": job_id}))["published_at"] is None

    restarted = start_redis(dedicated_redis.workdir, port=dedicated_redis.port, persist=True)
    try:

        async def published():
            return (await raw_db["pdf_requests"].find_one({"job_id": job_id}))["published_at"]

        await wait_for(published, timeout=90)
        client = Redis.from_url(restarted.url)
        try:
            bodies = await stream_bodies(client, f"{core_settings.event_stream_prefix}{PDF_REQUESTED}")
        finally:
            await client.aclose()
        assert [b["data"]["jobId"] for b in bodies] == [job_id]
        jsonschema.Draft202012Validator(event_json_schema(PDF_REQUESTED, 1)).validate(bodies[0])
    finally:
        restarted.stop()


async def test_demo_data_has_every_area_and_its_pi_can_be_printed(core_client, in_app_loop, core_settings):
    result = in_app_loop(load_demo_data)
    assert result["loaded"], result
    assert "3 aluguéis, 2 PIs, 1 contratos" in result["note"]
    admin = in_app_loop(User.find_one, {"email": DEMO_EMAIL})
    token, _ = issue_token(
        core_settings, user_id=str(admin.id), empresa_id=str(admin.empresa_id), role="admin", typ="access"
    )
    headers = {"Authorization": f"Bearer {token}"}
    pis = (await core_client.get(PIS, headers=headers)).json()
    contratos = (await core_client.get("/api/v1/contratos", headers=headers)).json()
    alugueis = (await core_client.get("/api/v1/alugueis", headers=headers)).json()
    assert (pis["total"], contratos["total"]) == (2, 1)
    assert alugueis["total"] == 3 + 5  # three of their own, one per placa of the two PIs
    events_ready(core_client)
    r = await core_client.post(f"{PIS}/{pis['items'][0]['id']}/pdf-jobs", headers=headers)
    assert r.status_code == 202, r.text


# ---- the job resource (owned by core-api) and once-per-event outcomes --------------------------


async def test_the_pdf_job_resource_is_answered_by_core_api_from_the_outcome_events(
    core_client, make_tenant, make_inventario, pdf_service_side
):
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    intruder = await make_tenant("Intrusa")
    events_ready(core_client)
    job_id = (await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)).json()[
        "jobId"
    ]
    url = f"/api/v1/pdf-jobs/{job_id}"
    r = await core_client.get(url, headers=tenant.user_headers)
    assert r.status_code == 200, r.text
    pending = r.json()
    assert (pending["jobId"], pending["status"], pending["kind"], pending["sourceId"]) == (
        job_id,
        "pending",
        "pi",
        pi["id"],
    )
    assert pending["attempts"] == 0 and pending["queued"] is True
    assert pending["documentId"] is None and pending["downloadUrl"] is None
    # tenant-scoped: another empresa's job, an unknown one, no token
    assert (await core_client.get(url, headers=intruder.admin_headers)).status_code == 404
    unknown = await core_client.get("/api/v1/pdf-jobs/0123456789abcdef", headers=tenant.user_headers)
    assert unknown.status_code == 404 and "no PDF job" in unknown.json()["detail"]
    assert (await core_client.get(url)).status_code == 401

    outcome = generated(job_id, "pi", pi["id"]).model_copy(update={"attempts": 2})
    event = new_event(outcome, empresa_id=tenant.empresa_id, event_id=f"pdf-generated-{job_id}")
    await pdf_service_side.publish(PDF_GENERATED, event)

    async def done():
        body = (await core_client.get(url, headers=tenant.user_headers)).json()
        return body if body["status"] == "done" else None

    body = await wait_for(done)
    assert body["documentId"] == outcome.document_id
    assert body["downloadUrl"] == f"/api/v1/documents/{outcome.document_id}"
    assert body["checksum"] == outcome.sha256 and body["filename"] == outcome.filename
    assert body["attempts"] == 2 and body["error"] is None
    # the event's time, at BSON's millisecond precision
    assert abs(datetime.fromisoformat(body["generatedAt"]) - event.time) < timedelta(milliseconds=1)
    assert (await core_client.get(url, headers=intruder.admin_headers)).status_code == 404

    failed_job = (await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)).json()[
        "jobId"
    ]
    failure = PdfFailedV1(
        job_id=failed_job, kind="pi", source_id=pi["id"], error="render timeout", attempts=3
    )
    await pdf_service_side.publish(PDF_FAILED, new_event(failure, empresa_id=tenant.empresa_id))

    async def failed():
        body = (await core_client.get(f"/api/v1/pdf-jobs/{failed_job}", headers=tenant.user_headers)).json()
        return body if body["status"] == "failed" else None

    body = await wait_for(failed)
    assert (body["error"], body["attempts"], body["documentId"]) == ("render timeout", 3, None)


async def _group_done(redis: Redis, stream: str, entries: int) -> bool:
    """core-api's consumer group has read `entries` messages of `stream` and acknowledged them all."""
    try:
        groups = await redis.xinfo_groups(stream)
    except Exception:  # noqa: BLE001 - the stream does not exist yet
        return False
    core = next((g for g in groups if g["name"] == b"core-api"), None)
    return core is not None and core["pending"] == 0 and core["entries-read"] == entries


async def _forget_handled(redis: Redis, event_ids: list[str]) -> int:
    """Delete every key naming one of these event ids except the streams: the bus's de-duplication
    state, as a Redis that lost it (no persistence, a failover) would have it."""
    deleted = 0
    async for key in redis.scan_iter(count=1000):
        if any(e.encode() in key for e in event_ids) and await redis.type(key) != b"stream":
            deleted += await redis.delete(key)
    return deleted


@pytest.mark.parametrize("dedicated_redis", [True], indirect=True)
async def test_every_outcome_event_is_recorded_once_whatever_the_delivery_count(
    core_client, make_tenant, make_inventario, dedicated_redis, core_settings, raw_db, in_app_loop
):
    """Each outcome event delivered twice, again after a Redis restart that forgot the bus's
    de-duplication, and once more straight to the handler (a fresh process): one document entry on
    the PI, one on the contrato, one job state each, and one applied-effect guard per effect."""
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario, placas=1)
    contrato = await core_client.post(
        "/api/v1/contratos", json={"piId": pi["id"]}, headers=tenant.user_headers
    )
    assert contrato.status_code == 201, contrato.text
    cid = contrato.json()["id"]
    events_ready(core_client)

    async def job(path: str) -> str:
        r = await core_client.post(path, headers=tenant.user_headers)
        assert r.status_code == 202, r.text
        return r.json()["jobId"]

    pi_job, ct_job = await job(f"{PIS}/{pi['id']}/pdf-jobs"), await job(f"/api/v1/contratos/{cid}/pdf-jobs")
    failed_job = await job(f"{PIS}/{pi['id']}/pdf-jobs")
    gen_pi = new_event(
        generated(pi_job, "pi", pi["id"]), empresa_id=tenant.empresa_id, event_id=f"g-{pi_job}"
    )
    gen_ct = new_event(
        generated(ct_job, "contrato", cid, document_id="6650aa00000000000000beef"),
        empresa_id=tenant.empresa_id,
        event_id=f"g-{ct_job}",
    )
    failed = new_event(
        PdfFailedV1(job_id=failed_job, kind="pi", source_id=pi["id"], error="bad snapshot", attempts=1),
        empresa_id=tenant.empresa_id,
        event_id=f"f-{failed_job}",
    )
    outcomes = [(PDF_GENERATED, gen_pi), (PDF_GENERATED, gen_ct), (PDF_FAILED, failed)]
    streams = {t: f"{core_settings.event_stream_prefix}{t}" for t in (PDF_GENERATED, PDF_FAILED)}
    publisher_settings = core_settings.model_copy(update={"service_name": "pdf-service"})

    async def deliver(times: int) -> None:
        bus = bus_from_settings(publisher_settings)
        await bus.start()
        try:
            for _ in range(times):
                for topic, event in outcomes:
                    await bus.publish(topic, event)
        finally:
            await bus.stop()

    async def state() -> dict[str, Any]:
        pi_doc = await raw_db["pis"].find_one({"_id": ObjectId(pi["id"])})
        ct_doc = await raw_db["contratos"].find_one({"_id": ObjectId(cid)})
        jobs = {
            j["job_id"]: j
            async for j in raw_db["pdf_requests"].find({"empresa_id": ObjectId(tenant.empresa_id)})
        }
        guards = (
            await raw_db["applied_effects"]
            .find({"_id": {"$in": [f"{e.event_id}|{x}" for _, e in outcomes for x in EFFECTS]}})
            .to_list()
        )
        return {
            "pi": [d["job_id"] for d in pi_doc["documentos"]],
            "contrato": [d["job_id"] for d in ct_doc["documentos"]],
            "jobs": {k: (v["status"], v.get("document_id"), v.get("error")) for k, v in jobs.items()},
            "guards": sorted((g["_id"], g["state"]) for g in guards),
        }

    expected = {
        "pi": [pi_job],
        "contrato": [ct_job],
        "jobs": {
            pi_job: ("done", "6650aa00000000000000abcd", None),
            ct_job: ("done", "6650aa00000000000000beef", None),
            failed_job: ("failed", None, "bad snapshot"),
        },
        "guards": sorted(
            [
                (f"{gen_pi.event_id}|pdf_requests.status", "applied"),
                (f"{gen_pi.event_id}|pis.documentos", "applied"),
                (f"{gen_ct.event_id}|pdf_requests.status", "applied"),
                (f"{gen_ct.event_id}|contratos.documentos", "applied"),
                (f"{failed.event_id}|pdf_requests.status", "applied"),
            ]
        ),
    }

    # 1. every event twice (the second is a duplicate the bus may or may not recognise)
    await deliver(2)
    await wait_for(lambda: _group_done_all(dedicated_redis.url, streams, {PDF_GENERATED: 4, PDF_FAILED: 2}))
    assert await state() == expected

    # 2. Redis restarts and has forgotten which events were handled: all three come again
    dedicated_redis.stop()
    restarted = start_redis(dedicated_redis.workdir, port=dedicated_redis.port, persist=True)
    try:
        client = Redis.from_url(restarted.url)
        try:
            assert await _forget_handled(client, [e.event_id for _, e in outcomes]) > 0
        finally:
            await client.aclose()
        await deliver(1)
        await wait_for(
            lambda: _group_done_all(restarted.url, streams, {PDF_GENERATED: 6, PDF_FAILED: 3}), timeout=120
        )
        assert await state() == expected

        # 3. straight to the handlers, as a fresh process with no de-duplication state at all
        for _, event in outcomes:
            record = in_app_loop(
                record_pdf_generated if event.type == PDF_GENERATED else record_pdf_failed,
                event,
                core_client.app.state,
            )
            assert record is not None and record.job_id == event.data.job_id
        assert await state() == expected
        r = await core_client.get(f"{PIS}/{pi['id']}", headers=tenant.user_headers)
        assert [d["jobId"] for d in r.json()["documentos"]] == [pi_job]
    finally:
        restarted.stop()


EFFECTS = ("pdf_requests.status", "pis.documentos", "contratos.documentos")


async def _group_done_all(url: str, streams: dict[str, str], entries: dict[str, int]) -> bool:
    client = Redis.from_url(url)
    try:
        return all([await _group_done(client, streams[t], n) for t, n in entries.items()])
    finally:
        await client.aclose()


async def test_the_applied_effects_guard_decides_and_a_crashed_claim_is_finished(
    core_client, make_tenant, make_inventario, raw_db, in_app_loop
):
    """White-box: the unique-key guard is what makes an effect once per event (not a conditional
    update): an `applied` guard stops the effect, an `applying` one left by a crash is completed
    once, and racing deliveries of one event record one entry."""
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    events_ready(core_client)
    state = core_client.app.state

    async def job() -> str:
        return (await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)).json()[
            "jobId"
        ]

    def event_for(job_id: str) -> Any:
        return new_event(
            generated(job_id, "pi", pi["id"]), empresa_id=tenant.empresa_id, event_id=f"g-{job_id}"
        )

    async def entries() -> list[str]:
        doc = await raw_db["pis"].find_one({"_id": ObjectId(pi["id"])})
        return [d["job_id"] for d in doc["documentos"]]

    # an `applied` guard: the document effect is not applied again (the job's own effect still is)
    guarded = event_for(await job())
    await raw_db["applied_effects"].insert_one(
        {"_id": f"{guarded.event_id}|pis.documentos", "state": "applied"}
    )
    in_app_loop(record_pdf_generated, guarded, state)
    assert await entries() == []
    assert (await raw_db["pdf_requests"].find_one({"job_id": guarded.data.job_id}))["status"] == "done"

    # an `applying` guard (a delivery died between claiming and confirming): finished, once
    crashed = event_for(await job())
    key = f"{crashed.event_id}|pis.documentos"
    await raw_db["applied_effects"].insert_one({"_id": key, "state": "applying"})
    in_app_loop(record_pdf_generated, crashed, state)
    in_app_loop(record_pdf_generated, crashed, state)
    assert await entries() == [crashed.data.job_id]
    assert (await raw_db["applied_effects"].find_one({"_id": key}))["state"] == "applied"

    # racing deliveries of one event (a claim after the idle timeout while the first still runs)
    raced = event_for(await job())

    async def race() -> list[Any]:
        return await asyncio.gather(*(record_pdf_generated(raced, state) for _ in range(6)))

    assert all(r is not None for r in in_app_loop(race))
    assert await entries() == [crashed.data.job_id, raced.data.job_id]
    guards = await raw_db["applied_effects"].find({"_id": {"$regex": f"^{raced.event_id}"}}).to_list()
    assert sorted((g["_id"].split("|")[1], g["state"]) for g in guards) == [
        ("pdf_requests.status", "applied"),
        ("pis.documentos", "applied"),
    ]


async def test_a_pi_job_reads_the_pi_once(
    core_client, make_tenant, make_inventario, monkeypatch, redis, core_settings
):
    """The PI checked for cancellation is the PI printed: one read per job (it was two)."""
    tenant, _, pi = await new_pi(core_client, make_tenant, make_inventario)
    events_ready(core_client)
    reads: list[Any] = []
    find_one = TenantRepository.find_one

    async def counting(self, query):  # type: ignore[no-untyped-def]
        if self.model is PI:
            reads.append(query)
        return await find_one(self, query)

    monkeypatch.setattr(TenantRepository, "find_one", counting)
    r = await core_client.post(f"{PIS}/{pi['id']}/pdf-jobs", headers=tenant.user_headers)
    assert r.status_code == 202, r.text
    assert len(reads) == 1, reads
    [raw] = await stream_bodies(redis, f"{core_settings.event_stream_prefix}{PDF_REQUESTED}")
    assert parse_event(raw).data.snapshot.numero == pi["codigo"]
