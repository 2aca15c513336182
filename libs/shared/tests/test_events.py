"""EventBus on a real Redis: envelopes, schemas, retries, dead letters, claims, AsyncAPI."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest
from pydantic import ValidationError
from redis.asyncio import Redis
from shared.documents.samples import sample_snapshot
from shared.events import (
    PDF_GENERATED,
    PDF_REQUESTED,
    DeliveryPolicy,
    EventBus,
    PdfGeneratedV1,
    PdfRequestedV1,
    PermanentError,
    broker_kind,
    create_event_bus,
    event_json_schema,
    export_json_schemas,
    new_event,
    parse_event,
)
from shared.logging import get_request_id, request_id_var

FAST = DeliveryPolicy(
    max_deliveries=3, backoff_initial=0.02, backoff_max=0.1, claim_idle_ms=400, polling_interval_ms=20
)


def generated(job_id: str = "job-0001") -> PdfGeneratedV1:
    return PdfGeneratedV1(
        job_id=job_id, kind="pi", source_id="pi-1", document_id="d" * 24, filename="pi.pdf",
        sha256="a" * 64, size_bytes=10, pages=1,
    )  # fmt: skip


def requested(job_id: str = "job-0001") -> PdfRequestedV1:
    snap = sample_snapshot("pi")
    return PdfRequestedV1(job_id=job_id, kind="pi", source_id=snap.source_id, snapshot=snap)


@pytest.fixture
def make_bus(redis_url, unique_name):
    buses: list[EventBus] = []

    def make(**kw) -> EventBus:
        kw.setdefault("service_name", "svc")
        kw.setdefault("policy", FAST)
        bus = create_event_bus(redis_url, stream_prefix=f"t{unique_name}:", **kw)
        buses.append(bus)
        return bus

    yield make


async def wait_for(predicate, timeout=60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# --- envelope and schemas ---------------------------------------------------------------------
def test_envelope_carries_metadata_and_correlation_from_the_request():
    token = request_id_var.set("req-123")
    try:
        event = new_event(generated(), empresa_id="emp1")
    finally:
        request_id_var.reset(token)
    wire = event.model_dump(mode="json")
    assert wire["type"] == "pdf.generated" and wire["schemaVersion"] == 1
    assert wire["correlationId"] == "req-123" and wire["empresaId"] == "emp1"
    assert wire["data"]["documentId"] == "d" * 24 and wire["time"].endswith("Z")
    back = parse_event(json.dumps(wire))
    assert back == event and isinstance(back.data, PdfGeneratedV1)


def test_envelope_and_payload_refuse_bad_messages():
    wire = new_event(requested(), empresa_id="emp1").model_dump(mode="json")
    with pytest.raises(ValidationError):
        parse_event({**wire, "data": {**wire["data"], "jobId": "x"}})  # too short
    with pytest.raises(ValidationError):
        parse_event({**wire, "surprise": 1})
    with pytest.raises(ValueError, match="not supported"):
        parse_event({**wire, "schemaVersion": 99})
    with pytest.raises(ValidationError, match="must match"):
        PdfRequestedV1(job_id="job-0001", kind="contrato", source_id="x", snapshot=sample_snapshot("pi"))


def test_exported_json_schemas_validate_real_messages_and_reject_broken_ones(tmp_path):
    paths = export_json_schemas(tmp_path)
    assert {p.name for p in paths} >= {
        "pdf.requested.v1.schema.json",
        "pdf.generated.v1.schema.json",
        "pdf.failed.v1.schema.json",
    }
    schema = json.loads((tmp_path / "pdf.requested.v1.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    message = new_event(requested(), empresa_id="emp1", causation_id="ev-0").model_dump(mode="json")
    validator.validate(message)
    broken = json.loads(json.dumps(message))
    del broken["data"]["snapshot"]["cliente"]
    assert not validator.is_valid(broken)
    broken = {**message, "type": "pdf.generated"}
    assert not validator.is_valid(broken)
    jsonschema.Draft202012Validator(event_json_schema(PDF_GENERATED, 1)).validate(
        new_event(generated(), empresa_id="emp1").model_dump(mode="json")
    )


@pytest.mark.fast
def test_the_broker_is_chosen_by_the_url_scheme():
    from faststream.rabbit import RabbitBroker
    from faststream.redis import RedisBroker

    assert broker_kind("redis://localhost:6379/0") == "redis" and broker_kind("amqp://guest@h/") == "rabbit"
    assert isinstance(EventBus("redis://localhost:1/0", service_name="s").broker, RedisBroker)
    rabbit = EventBus("amqp://guest:guest@localhost:1/", service_name="s", dedupe_url="redis://localhost:1/0")
    assert isinstance(rabbit.broker, RabbitBroker)
    with pytest.raises(ValueError, match="needs dedupe_url"):
        EventBus("amqp://guest@localhost/", service_name="s")
    with pytest.raises(ValueError, match="no event broker for kafka://"):
        create_event_bus("kafka://localhost:9092", service_name="s")


def test_consumer_names_are_unique_per_bus(redis_url):
    a, b = (create_event_bus(redis_url, service_name="s") for _ in range(2))
    assert a.consumer_name != b.consumer_name and str(__import__("os").getpid()) in a.consumer_name


# --- delivery on a real Redis -----------------------------------------------------------------
async def test_publish_subscribe_round_trip_with_correlation(make_bus):
    bus = make_bus()
    seen: list[tuple] = []

    async def handler(event):
        seen.append((event, get_request_id()))

    bus.subscribe(PDF_GENERATED, handler)
    bus.declare_publisher(PDF_GENERATED)
    async with bus:
        token = request_id_var.set("req-abc")
        try:
            event = new_event(generated(), empresa_id="emp1")
        finally:
            request_id_var.reset(token)
        await bus.publish(PDF_GENERATED, event)

        async def got():
            return bool(seen)

        await wait_for(got)
        assert seen[0][0] == event and seen[0][1] == "req-abc"
        pending = await bus.redis.xpending(bus.stream(PDF_GENERATED), "svc")
        assert pending["pending"] == 0
        # capped stream
        info = await bus.redis.xinfo_stream(bus.stream(PDF_GENERATED))
        assert info["length"] == 1


async def test_failing_handler_is_retried_then_dead_lettered_with_the_error(make_bus):
    bus = make_bus()
    calls: list[int] = []
    letters = []

    async def always_fails(event):
        calls.append(1)
        raise RuntimeError("printer on fire")

    async def on_dead(letter):
        letters.append(letter)

    bus.subscribe(PDF_GENERATED, always_fails, on_dead_letter=on_dead)
    async with bus:
        event = new_event(generated(), empresa_id="emp1")
        await bus.publish(PDF_GENERATED, event)
        dlq = bus.dead_letter_stream(PDF_GENERATED)

        async def dead():  # written, then acknowledged (in that order: poll for both)
            pending = (await bus.redis.xpending(bus.stream(PDF_GENERATED), "svc"))["pending"]
            return await bus.redis.xlen(dlq) == 1 and pending == 0

        await wait_for(dead)
        [(_, fields)] = await bus.redis.xrange(dlq)
        assert fields[b"error"] == b"RuntimeError: printer on fire"
        assert fields[b"deliveries"] == b"3" and fields[b"group"] == b"svc"
        assert json.loads(fields[b"event"])["eventId"] == event.event_id
        assert len(calls) == 3
        assert letters[0].event == event and letters[0].deliveries == 3


async def test_permanent_errors_and_invalid_messages_go_to_the_dead_letter_stream_at_once(
    make_bus, redis_url
):
    bus = make_bus()
    calls: list[int] = []

    async def refuses(event):
        calls.append(1)
        raise PermanentError("this snapshot can never print")

    bus.subscribe(PDF_GENERATED, refuses)
    async with bus:
        await bus.publish(PDF_GENERATED, new_event(generated(), empresa_id="emp1"))
        # a message that is not an envelope at all, published by someone else
        await bus.broker.publish({"hello": "world"}, stream=bus.stream(PDF_GENERATED))
        dlq = bus.dead_letter_stream(PDF_GENERATED)

        async def both_dead():
            return await bus.redis.xlen(dlq) == 2

        await wait_for(both_dead)
        entries = await bus.redis.xrange(dlq)
        assert [e[1][b"deliveries"] for e in entries] == [b"1", b"1"]
        assert b"PermanentError" in entries[0][1][b"error"]
        assert b"hello" in entries[1][1][b"event"]
        assert len(calls) == 1


async def test_duplicate_event_ids_are_handled_once_per_group(make_bus):
    bus = make_bus()
    seen: list[str] = []
    other: list[str] = []

    async def handler(event):
        seen.append(event.event_id)

    async def other_group(event):
        other.append(event.event_id)

    bus.subscribe(PDF_GENERATED, handler)
    bus.subscribe(PDF_GENERATED, other_group, group="audit")
    async with bus:
        event = new_event(generated(), empresa_id="emp1")
        await bus.publish(PDF_GENERATED, event)
        await bus.publish(PDF_GENERATED, event)

        async def drained():
            p1 = await bus.redis.xpending(bus.stream(PDF_GENERATED), "svc")
            p2 = await bus.redis.xpending(bus.stream(PDF_GENERATED), "audit")
            return len(other) == 1 and p1["pending"] == 0 and p2["pending"] == 0 and len(seen) >= 1

        await wait_for(drained)
        await asyncio.sleep(0.2)
        assert seen == [event.event_id] and other == [event.event_id]


async def test_message_left_pending_by_a_dead_consumer_is_claimed_and_handled(make_bus, redis_url):
    bus = make_bus()
    seen: list[str] = []

    async def handler(event):
        seen.append(event.event_id)

    bus.subscribe(PDF_GENERATED, handler)
    stream = bus.stream(PDF_GENERATED)
    raw = Redis.from_url(redis_url)
    try:
        await raw.xgroup_create(stream, "svc", id="$", mkstream=True)
        publisher = make_bus(service_name="publisher")
        async with publisher:
            event = new_event(generated(), empresa_id="emp1")
            await publisher.publish(PDF_GENERATED, event)
        # a consumer reads it and dies without acknowledging
        got = await raw.xreadgroup("svc", "crashed-consumer", {stream: ">"}, count=1)
        assert got and got[0][1]
        async with bus:

            async def handled():
                # handled, then acknowledged (the ack follows the handler's return)
                return seen == [event.event_id] and (await raw.xpending(stream, "svc"))["pending"] == 0

            await wait_for(handled)
    finally:
        await raw.aclose()


async def test_asyncapi_documents_channels_and_payload_schemas(make_bus):
    bus = make_bus(service_name="pdf-service")

    async def handler(event):
        pass

    bus.subscribe(PDF_REQUESTED, handler)
    bus.declare_publisher(PDF_GENERATED)
    doc = bus.asyncapi("test")
    assert doc["asyncapi"] == "3.0.0"
    channels = doc["channels"]
    assert any(c["bindings"]["redis"].get("groupName") == "pdf-service" for c in channels.values())
    assert any(c["bindings"]["redis"]["method"] == "xadd" for c in channels.values())
    schemas = json.dumps(doc["components"]["schemas"])
    assert "PdfRequestedV1" in schemas and "snapshot" in schemas and "PdfGeneratedV1" in schemas


async def test_events_published_before_the_consumer_group_existed_are_delivered(make_bus):
    publisher = make_bus(service_name="core-api")
    async with publisher:
        event = new_event(generated(), empresa_id="emp1")
        await publisher.publish(PDF_GENERATED, event)
    bus = make_bus()
    seen: list[str] = []

    async def handler(ev):
        seen.append(ev.event_id)

    bus.subscribe(PDF_GENERATED, handler)
    async with bus:

        async def handled():
            return seen == [event.event_id]

        await wait_for(handled)
