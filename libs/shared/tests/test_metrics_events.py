"""The EventBus records its own metrics (real Redis, in-process registry): published and publish
failures per topic; deliveries by outcome (success, failure, duplicate) with handling time; retries
(in-process and claims of abandoned messages); dead letters; pending/lag gauges of its groups."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from shared.documents.samples import sample_snapshot
from shared.events import (
    PDF_GENERATED,
    PDF_REQUESTED,
    DeliveryPolicy,
    EventBus,
    PdfGeneratedV1,
    PdfRequestedV1,
    create_event_bus,
    new_event,
)

FAST = DeliveryPolicy(
    max_deliveries=3, backoff_initial=0.02, backoff_max=0.1, claim_idle_ms=400, polling_interval_ms=20
)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def generated(job_id: str = "job-0001") -> PdfGeneratedV1:
    return PdfGeneratedV1(
        job_id=job_id, kind="pi", source_id="pi-1", document_id="d" * 24, filename="pi.pdf",
        sha256="a" * 64, size_bytes=10, pages=1,
    )  # fmt: skip


@pytest.fixture
def make_bus(redis_url, unique_name):
    def make(**kw) -> EventBus:
        kw.setdefault("policy", FAST)
        # every test gets its own group names, so counters start at zero for it
        kw.setdefault("service_name", f"svc-{unique_name}")
        return create_event_bus(redis_url, stream_prefix=f"m{unique_name}:", **kw)

    return make


async def wait_for(predicate, timeout=60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_publish_and_successful_consume_move_the_counters(make_bus):
    bus = make_bus()
    group = bus.service_name
    seen: list[str] = []

    async def handler(event):
        await asyncio.sleep(0.03)
        seen.append(event.event_id)

    bus.subscribe(PDF_GENERATED, handler)
    bus.declare_publisher(PDF_GENERATED)
    published = value("events_published_total", topic=PDF_GENERATED)
    async with bus:
        event = new_event(generated(), empresa_id="emp1")
        await bus.publish(PDF_GENERATED, event)
        await bus.publish(PDF_GENERATED, event)  # the same event id again: a duplicate

        async def both_handled():
            return (
                value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="success")
                + value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="duplicate")
                == 2
            )

        await wait_for(both_handled)
    assert seen == [event.event_id]
    assert value("events_published_total", topic=PDF_GENERATED) == published + 2
    assert value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="success") == 1
    assert value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="duplicate") == 1
    assert value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="failure") == 0
    # the duplicate never reached the handler: one timing, at least the handler's sleep
    assert value("event_handling_duration_seconds_count", topic=PDF_GENERATED, group=group) == 1
    assert value("event_handling_duration_seconds_sum", topic=PDF_GENERATED, group=group) >= 0.03


async def test_publish_failure_is_counted_and_raised(redis_url, unique_name):
    # nothing listens on this port: the broker refuses the connection
    bus = create_event_bus("redis://127.0.0.1:1/0", service_name="nobody", stream_prefix=f"m{unique_name}:")
    failed = value("events_publish_failures_total", topic=PDF_GENERATED)
    published = value("events_published_total", topic=PDF_GENERATED)
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the client raises, it is re-raised
        await bus.publish(PDF_GENERATED, new_event(generated(), empresa_id="emp1"))
    assert value("events_publish_failures_total", topic=PDF_GENERATED) == failed + 1
    assert value("events_published_total", topic=PDF_GENERATED) == published


async def test_retries_then_dead_letter_move_the_counters(make_bus):
    bus = make_bus()
    group = bus.service_name

    async def always_fails(event):
        raise RuntimeError("printer on fire")

    bus.subscribe(PDF_GENERATED, always_fails)
    async with bus:
        await bus.publish(PDF_GENERATED, new_event(generated(), empresa_id="emp1"))

        async def dead():
            return value("events_dead_lettered_total", topic=PDF_GENERATED, group=group) == 1

        await wait_for(dead)
        assert await bus.redis.xlen(bus.dead_letter_stream(PDF_GENERATED)) == 1
    # three deliveries (max_deliveries=3): three failures, two retries, one dead letter
    assert value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="failure") == 3
    assert value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="success") == 0
    assert value("events_retried_total", topic=PDF_GENERATED, group=group) == 2
    assert value("event_handling_duration_seconds_count", topic=PDF_GENERATED, group=group) == 3


async def test_a_handler_that_fails_once_is_retried_and_succeeds(make_bus):
    bus = make_bus()
    group = bus.service_name
    calls: list[int] = []

    async def flaky(event):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("MongoDB blinked")

    bus.subscribe(PDF_GENERATED, flaky)
    async with bus:
        await bus.publish(PDF_GENERATED, new_event(generated(), empresa_id="emp1"))

        async def ok():
            return value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="success") == 1

        await wait_for(ok)
    assert value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="failure") == 1
    assert value("events_retried_total", topic=PDF_GENERATED, group=group) == 1
    assert value("events_dead_lettered_total", topic=PDF_GENERATED, group=group) == 0


async def test_claiming_a_message_abandoned_by_a_dead_consumer_counts_as_a_retry(make_bus, redis_url):
    bus = make_bus()
    group = bus.service_name
    seen: list[str] = []

    async def handler(event):
        seen.append(event.event_id)

    bus.subscribe(PDF_GENERATED, handler)
    stream = bus.stream(PDF_GENERATED)
    raw = Redis.from_url(redis_url)
    try:
        await raw.xgroup_create(stream, group, id="0", mkstream=True)
        await raw.xadd(
            stream, {"__data__": new_event(generated(), empresa_id="e").model_dump_json(by_alias=True)}
        )
        assert await raw.xreadgroup(group, "crashed-consumer", {stream: ">"}, count=1)
        async with bus:

            async def handled():
                return len(seen) == 1

            await wait_for(handled)
    finally:
        await raw.aclose()
    assert value("events_retried_total", topic=PDF_GENERATED, group=group) == 1
    assert value("events_consumed_total", topic=PDF_GENERATED, group=group, outcome="success") == 1


async def test_backlog_gauges_follow_xpending_and_lag_of_the_bus_groups(make_bus, redis_url):
    bus = make_bus(backlog_sample_seconds=0.05)
    group = bus.service_name
    release = asyncio.Event()
    started: list[str] = []

    async def slow(event):
        started.append(event.event_id)
        await release.wait()

    bus.subscribe(PDF_REQUESTED, slow)  # concurrency 1: one in hand, the rest wait in the stream
    stream = bus.stream(PDF_REQUESTED)
    raw = Redis.from_url(redis_url)
    try:
        # another service's group on the same stream: this bus does not report it
        await raw.xgroup_create(stream, "someone-else", id="0", mkstream=True)
        async with bus:
            snap = sample_snapshot("pi")
            for n in range(4):
                payload = PdfRequestedV1(
                    job_id=f"job-{n:04d}", kind="pi", source_id=snap.source_id, snapshot=snap
                )
                await bus.publish(PDF_REQUESTED, new_event(payload, empresa_id="emp1"))

            async def sampled_busy():
                return (
                    len(started) == 1
                    and value("event_stream_pending_messages", stream=stream, group=group) == 1
                    and value("event_stream_lag_messages", stream=stream, group=group) == 3
                )

            await wait_for(sampled_busy)
            xpending = await raw.xpending(stream, group)
            assert xpending["pending"] == 1  # the gauge says what XPENDING says
            release.set()

            async def sampled_idle():
                return (
                    value("event_stream_pending_messages", stream=stream, group=group) == 0
                    and value("event_stream_lag_messages", stream=stream, group=group) == 0
                )

            await wait_for(sampled_idle)
            assert (await raw.xpending(stream, group))["pending"] == 0
            assert (
                REGISTRY.get_sample_value(
                    "event_stream_lag_messages", {"stream": stream, "group": "someone-else"}
                )
                is None
            )
            # sampling on demand returns the same numbers
            assert await bus.sample_backlog() == {stream: {group: {"pending": 0, "lag": 0}}}
    finally:
        await raw.delete(stream)
        await raw.aclose()


@pytest.mark.parametrize("attempt", range(5))
async def test_stop_ends_the_backlog_sampler_even_when_cancelled_mid_sample(make_bus, attempt):
    """Regression: a cancel landing inside the sampler's XINFO call was swallowed by redis-py, so
    `stop()` waited out a whole `backlog_sample_seconds` (every app shutdown took 2 s in the tests,
    15 s in production). Started and stopped at once, the cancel lands in the first sample."""

    async def handler(event):
        return None

    bus = make_bus(backlog_sample_seconds=3600)
    bus.subscribe(PDF_GENERATED, handler)
    await bus.start()
    sampler = bus._sampler
    assert sampler is not None and not sampler.done()
    await asyncio.wait_for(bus.stop(), timeout=60)  # the old code slept the hour out here
    assert sampler.done() and bus._sampler is None
