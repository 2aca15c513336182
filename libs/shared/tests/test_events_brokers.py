"""The same handlers and the same delivery guarantees on both brokers FastStream runs here: Redis
Streams (redis://) and RabbitMQ (amqp://), chosen by the bus URL. Real servers, no test client."""

from __future__ import annotations

import json

import pytest
from devstack.polling import wait_until
from shared.events import PDF_GENERATED, DeliveryPolicy, EventBus, PdfGeneratedV1, PermanentError, new_event

FAST = DeliveryPolicy(
    max_deliveries=3, backoff_initial=0.02, backoff_max=0.1, claim_idle_ms=2000, polling_interval_ms=20
)


def generated(job_id: str = "job-0001") -> PdfGeneratedV1:
    return PdfGeneratedV1(
        job_id=job_id, kind="pi", source_id="pi-1", document_id="d" * 24, filename="pi.pdf",
        sha256="a" * 64, size_bytes=10, pages=1,
    )  # fmt: skip


@pytest.fixture(params=["redis", "rabbitmq"])
def bus_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def make_bus(bus_url, redis_url, unique_name):
    def make(**kw) -> EventBus:
        kw.setdefault("service_name", "svc")
        kw.setdefault("policy", FAST)
        return EventBus(bus_url, stream_prefix=f"b{unique_name}.", dedupe_url=redis_url, **kw)

    return make


async def dead_letters(bus: EventBus, topic: str) -> list[dict]:
    """The entries of `<topic>.dlq`, read without consuming them (a stream) or by draining (a queue)."""
    if bus.kind == "redis":
        return [
            {k.decode(): v.decode() for k, v in fields.items()}
            for _, fields in await bus.redis.xrange(bus.dead_letter_stream(topic))
        ]
    queue = await bus.broker.declare_queue(bus._dead_letter_queue(topic))
    found = []
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        found.append(json.loads(message.body))
    return found


async def test_round_trip_and_de_duplication_by_event_id(make_bus):
    bus = make_bus()
    seen: list[str] = []

    @bus.subscriber(PDF_GENERATED)
    async def handler(event):
        seen.append(event.event_id)

    async with bus:
        event = new_event(generated(), empresa_id="emp1")
        await bus.publish(PDF_GENERATED, event)
        await bus.publish(PDF_GENERATED, event)  # the same event id again (a re-published outcome)
        later = new_event(generated("job-0002"), empresa_id="emp1")
        await bus.publish(PDF_GENERATED, later)

        async def both() -> bool:
            return later.event_id in seen

        await wait_until(both, timeout=60, what="both events handled")
        # the duplicate was published between the two: handled once
        assert seen == [event.event_id, later.event_id]


async def test_retries_then_dead_letter_and_permanent_errors_at_once(make_bus):
    bus = make_bus()
    calls: dict[str, int] = {}
    letters = []

    async def on_dead(letter):
        letters.append(letter)

    @bus.subscriber(PDF_GENERATED, on_dead_letter=on_dead)
    async def handler(event):
        calls[event.data.job_id] = calls.get(event.data.job_id, 0) + 1
        if event.data.job_id == "job-perm-1":
            raise PermanentError("can never print")
        raise RuntimeError("printer on fire")

    async with bus:
        flaky = new_event(generated("job-flaky-1"), empresa_id="emp1")
        await bus.publish(PDF_GENERATED, flaky)
        await bus.publish(PDF_GENERATED, new_event(generated("job-perm-1"), empresa_id="emp1"))

        async def two_letters() -> bool:
            return len(letters) == 2

        await wait_until(two_letters, timeout=60, what="two dead letters")
        assert calls == {"job-flaky-1": 3, "job-perm-1": 1}
        by_job = {letter.event.data.job_id: letter for letter in letters}
        assert by_job["job-flaky-1"].deliveries == 3 and "printer on fire" in by_job["job-flaky-1"].error
        assert by_job["job-perm-1"].deliveries == 1 and "PermanentError" in by_job["job-perm-1"].error
        entries = await dead_letters(bus, PDF_GENERATED)
        assert sorted(json.loads(e["event"])["data"]["jobId"] for e in entries) == [
            "job-flaky-1",
            "job-perm-1",
        ]
        assert {e["group"] for e in entries} == {"svc"}


async def test_two_groups_each_get_every_event_and_one_group_shares_them(make_bus):
    """A consumer group is a Redis group or a RabbitMQ queue: two consumers of one group share the
    events, another group gets them all too."""
    a, b, audit = make_bus(), make_bus(), make_bus(service_name="audit")
    got: dict[str, list[str]] = {"a": [], "b": [], "audit": []}
    for name, bus in (("a", a), ("b", b), ("audit", audit)):

        async def handler(event, name=name):
            got[name].append(event.event_id)

        bus.subscribe(PDF_GENERATED, handler)
    async with a, b, audit:
        events = [new_event(generated(f"job-share-{i}"), empresa_id="emp1") for i in range(10)]
        for event in events:
            await a.publish(PDF_GENERATED, event)

        async def all_handled() -> bool:
            return len(got["audit"]) == 10 and len(got["a"]) + len(got["b"]) == 10

        await wait_until(all_handled, timeout=60, what="every event handled by each group")
        ids = {e.event_id for e in events}
        assert set(got["audit"]) == ids and set(got["a"]) | set(got["b"]) == ids
        assert not set(got["a"]) & set(got["b"])
