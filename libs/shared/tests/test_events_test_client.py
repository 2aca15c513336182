"""The delivery middleware under FastStream's own test clients (`TestRedisBroker`, `TestRabbitBroker`):
no broker server, handlers called in process, so retries, dead letters and de-duplication are
checked in milliseconds for both brokers. The de-duplication marks are real Redis keys."""

from __future__ import annotations

import json

import pytest
from faststream.rabbit import TestRabbitBroker
from faststream.redis import TestRedisBroker
from shared.events import PDF_GENERATED, DeliveryPolicy, EventBus, PdfGeneratedV1, PermanentError, new_event

QUICK = DeliveryPolicy(max_deliveries=3, backoff_initial=0.001, backoff_max=0.002)


def generated(job_id: str = "job-0001") -> PdfGeneratedV1:
    return PdfGeneratedV1(
        job_id=job_id, kind="pi", source_id="pi-1", document_id="d" * 24, filename="pi.pdf",
        sha256="a" * 64, size_bytes=10, pages=1,
    )  # fmt: skip


@pytest.fixture(params=["redis", "rabbit"])
async def bus_under_test(request, redis_url, unique_name):
    """An EventBus whose broker runs in FastStream's test client (the Redis is only for dedupe keys)."""
    url = redis_url if request.param == "redis" else "amqp://guest:guest@127.0.0.1:1/"
    bus = EventBus(
        url, service_name="svc", policy=QUICK, stream_prefix=f"tc{unique_name}.", dedupe_url=redis_url
    )
    client = TestRedisBroker if request.param == "redis" else TestRabbitBroker
    letters: list = []

    async def write_dead_letter(letter) -> None:  # the test client has no stream or queue to write to
        letters.append(letter)

    bus.write_dead_letter = write_dead_letter  # type: ignore[method-assign]
    bus.letters = letters  # type: ignore[attr-defined]
    yield bus, client
    await bus.close()


async def test_handler_gets_the_typed_envelope_and_duplicates_are_skipped(bus_under_test):
    bus, client = bus_under_test
    seen: list = []

    @bus.subscriber(PDF_GENERATED)
    async def handler(event):
        seen.append(event)

    async with client(bus.broker):
        event = new_event(generated(), empresa_id="emp1")
        await bus.publish(PDF_GENERATED, event)
        await bus.publish(PDF_GENERATED, event)
    assert [e.event_id for e in seen] == [event.event_id]
    assert isinstance(seen[0].data, PdfGeneratedV1) and seen[0] == event
    assert await bus.redis.exists(bus.dedupe_key("svc", event.event_id))


async def test_failures_are_retried_up_to_the_cap_then_dead_lettered(bus_under_test):
    bus, client = bus_under_test
    calls: list[str] = []

    @bus.subscriber(PDF_GENERATED)
    async def handler(event):
        calls.append(event.data.job_id)
        if event.data.job_id == "job-perm-1":
            raise PermanentError("never")
        if calls.count(event.data.job_id) < 2:
            raise RuntimeError("flaky once")
        if event.data.job_id == "job-dead-1":
            raise RuntimeError("always")

    async with client(bus.broker):
        for job in ("job-flaky-1", "job-perm-1", "job-dead-1"):
            await bus.publish(PDF_GENERATED, new_event(generated(job), empresa_id="emp1"))
    assert (
        calls.count("job-flaky-1") == 2 and calls.count("job-perm-1") == 1 and calls.count("job-dead-1") == 3
    )
    by_job = {letter.event.data.job_id: letter for letter in bus.letters}
    assert set(by_job) == {"job-perm-1", "job-dead-1"}
    assert by_job["job-dead-1"].deliveries == 3 and "always" in by_job["job-dead-1"].error
    assert by_job["job-perm-1"].deliveries == 1 and "PermanentError" in by_job["job-perm-1"].error


async def test_a_message_that_is_not_an_envelope_is_dead_lettered_not_retried(bus_under_test):
    bus, client = bus_under_test
    calls: list = []

    @bus.subscriber(PDF_GENERATED)
    async def handler(event):
        calls.append(event)

    async with client(bus.broker) as broker:
        if bus.kind == "redis":
            await broker.publish({"hello": "world"}, stream=bus.stream(PDF_GENERATED))
        else:
            await broker.publish({"hello": "world"}, exchange=bus._exchange, routing_key=PDF_GENERATED)
    assert calls == []
    [letter] = bus.letters
    assert (
        letter.deliveries == 1
        and "ValidationError" in letter.error
        and json.loads(letter.raw) == {"hello": "world"}
    )
