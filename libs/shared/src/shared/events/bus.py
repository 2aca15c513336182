"""A service's FastStream broker, chosen by URL, with the platform's topic and group naming.

`EventBus(url, service_name=...)` holds a FastStream broker (`.broker`): `RedisBroker` for
`redis://` / `rediss://` / `unix://` URLs, `RabbitBroker` for `amqp://` / `amqps://`. It is not a
broker abstraction (FastStream is one): it only knows how a topic and a consumer group map onto
each broker, and installs `EventDelivery` (shared.events.delivery), so the handlers are the same on
both and tests can drive `.broker` with FastStream's `TestRedisBroker` / `TestRabbitBroker`.

Redis Streams: a topic is the stream `<prefix><topic>`; a consumer group is a Redis consumer group,
read by `StreamSub(stream, group=..., consumer=<unique per process>)`; a second `StreamSub` of the
same group with `min_idle_time` claims (XAUTOCLAIM) what a dead consumer left pending (in FastStream
0.7 such a subscriber only claims, hence the pair, as in FastStream's `claiming_manual_ack`
example). Groups are created at id 0, so events published before a service first ran are read.

RabbitMQ: every topic is published to the durable topic exchange `<prefix>events` with the topic as
routing key; a consumer group is the durable quorum queue `<prefix><topic>.<group>` bound to it
(its consumers compete, as in a Redis group; a dead consumer's messages are requeued by RabbitMQ,
and the quorum queue's `x-delivery-count` feeds the delivery cap). Dead letters go to the queue
`<prefix><topic>.dlq`. Unlike a stream, a queue only receives what is published after it exists.

De-duplication keys live in Redis on both: the broker's own Redis for redis://, `dedupe_url` (the
service's REDIS_URL) for amqp://.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import secrets
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, Union
from urllib.parse import urlparse

from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
    RabbitRouter,
)
from faststream.redis import RedisBroker, RedisRouter, StreamSub
from faststream.specification import AsyncAPI
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.events.delivery import (
    DeadLetter,
    DeadLetterHandler,
    DeliveryPolicy,
    EventDelivery,
    Handler,
    StreamLimits,
    Subscription,
)
from shared.events.envelope import EventEnvelope, current_event, envelope_type, registered_events
from shared.metrics import sample_stream_backlog

log = logging.getLogger("shared.events")

REDIS_SCHEMES = ("redis", "rediss", "unix")
AMQP_SCHEMES = ("amqp", "amqps")


def unique_consumer_name() -> str:
    """hostname-pid-random: unique per process, readable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def topic_model(topic: str) -> Any:
    """The envelope type(s) a topic accepts: every registered schema version of that event type."""
    models = [envelope_type(cls) for (t, _), cls in sorted(registered_events().items()) if t == topic]
    if not models:
        raise KeyError(f"no event payload is registered for topic {topic!r}")
    return models[0] if len(models) == 1 else Union[tuple(models)]  # noqa: UP007 - runtime union


def broker_kind(url: str) -> str:
    """`redis` or `rabbit` for a bus URL; a clear error for anything else (Kafka: docs/events.md)."""
    scheme = urlparse(url).scheme.lower()
    if scheme in REDIS_SCHEMES:
        return "redis"
    if scheme in AMQP_SCHEMES:
        return "rabbit"
    known = ", ".join(f"{s}://" for s in (*REDIS_SCHEMES, *AMQP_SCHEMES))
    raise ValueError(f"no event broker for {scheme or 'this'}:// URLs (BROKER_URL); supported: {known}")


class EventBus:
    """The service's FastStream broker plus topic/group naming (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        service_name: str,
        policy: DeliveryPolicy | None = None,
        limits: StreamLimits | None = None,
        stream_prefix: str = "",
        consumer_name: str | None = None,
        dedupe_url: str | None = None,
        graceful_timeout: float = 30.0,
        socket_timeout: float = 5.0,
        backlog_sample_seconds: float | None = 15.0,
    ) -> None:
        self.kind = broker_kind(url)
        self.service_name = service_name
        self.consumer_name = consumer_name or unique_consumer_name()
        self.policy = policy or DeliveryPolicy()
        self.limits = limits or StreamLimits()
        self.stream_prefix = stream_prefix
        if self.kind == "redis":
            # streams, groups, claims, dead letters and handled ids all on the broker's own Redis
            # (a REDIS_URL other than BROKER_URL sent the XACKs and XCLAIMs to a server without
            # the stream: every entry stayed pending)
            dedupe_url = url
        elif dedupe_url is None:
            raise ValueError("an amqp:// bus needs dedupe_url (the Redis that keeps handled event ids)")
        self._redis: Redis = Redis.from_url(
            dedupe_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        common: dict[str, Any] = {
            "middlewares": [functools.partial(EventDelivery, backend=self)],
            "graceful_timeout": graceful_timeout,
            "logger": logging.getLogger("faststream"),
            "log_level": logging.DEBUG,
        }
        self.broker: RedisBroker | RabbitBroker
        if self.kind == "redis":
            self.broker = RedisBroker(
                url,
                description="Redis Streams; consumer groups are named after the consuming service",
                **common,
            )
        else:
            # a publish no queue takes (no consumer group declared yet) raises instead of vanishing,
            # so the caller keeps it (core-api's outbox relay publishes it again)
            self.broker = RabbitBroker(
                url,
                description="RabbitMQ; one quorum queue per topic and consumer group",
                default_channel=Channel(on_return_raises=True),
                **common,
            )
            self._exchange = RabbitExchange(f"{stream_prefix}events", type=ExchangeType.TOPIC, durable=True)
        self.subscriptions: list[Subscription] = []
        self._publishers: dict[str, Any] = {}
        self._started = False
        #: how often the pending/lag gauges are refreshed while the bus runs (None: never; Redis only)
        self.backlog_sample_seconds = backlog_sample_seconds
        self._sampler: asyncio.Task[None] | None = None

    # --- names ------------------------------------------------------------------------------------
    def stream(self, topic: str) -> str:
        return f"{self.stream_prefix}{topic}"

    def dead_letter_stream(self, topic: str) -> str:
        """`<topic>.dlq`: a stream on Redis, a durable queue on RabbitMQ."""
        return f"{self.stream_prefix}{topic}.dlq"

    def queue(self, topic: str, group: str) -> str:
        return f"{self.stream_prefix}{topic}.{group}"

    def dedupe_key(self, group: str, event_id: str) -> str:
        return f"{self.stream_prefix}events:handled:{group}:{event_id}"

    @property
    def redis(self) -> Redis:
        """The bus's own Redis client (de-duplication; dead letters and inspection on Redis)."""
        return self._redis

    # --- declaring ----------------------------------------------------------------------------------
    def publisher(self, topic: str, description: str | None = None) -> Any:
        """The FastStream publisher of `topic` (documented in AsyncAPI); `publish` uses it."""
        if topic not in self._publishers:
            doc: dict[str, Any] = {
                "schema": topic_model(topic),
                "title": f"{topic}:publish",
                "description": description or f"{self.service_name} publishes {topic}",
            }
            if isinstance(self.broker, RedisBroker):
                self._publishers[topic] = self.broker.publisher(
                    stream=StreamSub(self.stream(topic), maxlen=self.limits.maxlen), **doc
                )
            else:
                self._publishers[topic] = self.broker.publisher(
                    exchange=self._exchange, routing_key=topic, persist=True, **doc
                )
        return self._publishers[topic]

    declare_publisher = publisher

    async def publish(self, topic: str, message: EventEnvelope[Any]) -> str:
        """Publish an envelope once the broker has accepted it; returns its event id."""
        if not isinstance(message, EventEnvelope):
            raise TypeError("publish takes an EventEnvelope; wrap payloads with shared.events.new_event")
        if message.type != topic:
            raise ValueError(f"an event of type {message.type!r} cannot be published to {topic!r}")
        # the broker's own publish with the envelope itself: pydantic serialises it (camelCase, in
        # Rust); the publisher object above only documents the channel
        correlation_id = message.correlation_id or message.event_id
        if isinstance(self.broker, RedisBroker):
            await self.broker.publish(
                message, stream=self.stream(topic), maxlen=self.limits.maxlen, correlation_id=correlation_id
            )
        else:
            await self.broker.publish(
                message,
                exchange=self._exchange,
                routing_key=topic,
                persist=True,
                correlation_id=correlation_id,
            )
        return message.event_id

    def subscriber(
        self,
        topic: str,
        *,
        group: str | None = None,
        policy: DeliveryPolicy | None = None,
        on_dead_letter: DeadLetterHandler | None = None,
        description: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator: call the handler with each envelope of `topic`, once per consumer group.

        The message is acknowledged after the handler returns (at least once: handlers must be
        idempotent, by event id or a business key).
        """

        def register(handler: Handler) -> Handler:
            self.subscribe(
                topic,
                handler,
                group=group,
                policy=policy,
                on_dead_letter=on_dead_letter,
                description=description,
            )
            return handler

        return register

    def subscribe(
        self,
        topic: str,
        handler: Handler,
        *,
        group: str | None = None,
        policy: DeliveryPolicy | None = None,
        on_dead_letter: DeadLetterHandler | None = None,
        description: str | None = None,
    ) -> Subscription:
        """`subscriber(...)(handler)`, returning the subscription."""
        if self._started:
            raise RuntimeError("subscribe before start(): subscriptions are fixed while the broker runs")
        sub = Subscription(
            topic=topic,
            group=group or self.service_name,
            handler=handler,
            policy=policy or self.policy,
            on_dead_letter=on_dead_letter,
            description=description or handler.__doc__,
        )

        async def call(event: Any) -> None:
            token = current_event.set(event)
            try:
                await handler(event)
            finally:
                current_event.reset(token)

        call.__annotations__ = {"event": topic_model(topic), "return": None}
        call.__name__ = getattr(handler, "__name__", "handler")
        call.__doc__ = sub.description
        if isinstance(self.broker, RedisBroker):
            self._subscribe_redis(self.broker, sub, call)
        else:
            self._subscribe_rabbit(self.broker, sub, call)
        self.subscriptions.append(sub)
        return sub

    def _delivery(self, sub: Subscription) -> Any:
        return functools.partial(EventDelivery, backend=self, subscription=sub)

    def _subscribe_redis(self, broker: RedisBroker, sub: Subscription, call: Any) -> None:
        stream, p = self.stream(sub.topic), sub.policy
        # read no more than we handle at once: a message read early but waiting in this process
        # would look abandoned to claimers (ours included) once it has been idle claim_idle_ms
        common: dict[str, Any] = {
            "group": sub.group,
            "consumer": self.consumer_name,
            "polling_interval": p.polling_interval_ms,
            "max_records": p.concurrency,
        }
        reader, claimer = RedisRouter(), RedisRouter()
        reader.subscriber(
            stream=StreamSub(stream, **common),
            ack_policy=AckPolicy.MANUAL,
            max_workers=p.concurrency if p.concurrency > 1 else None,
            title=f"{sub.topic}:{sub.group}",
            description=sub.description,
        )(call)
        claimer.subscriber(
            stream=StreamSub(stream, min_idle_time=p.claim_idle_ms, **common),
            ack_policy=AckPolicy.MANUAL,
            include_in_schema=False,
        )(call)
        claimed = Subscription(**{**sub.__dict__, "claimed": True})
        broker.include_router(reader, middlewares=[self._delivery(sub)])
        broker.include_router(claimer, middlewares=[self._delivery(claimed)])

    def _subscribe_rabbit(self, broker: RabbitBroker, sub: Subscription, call: Any) -> None:
        router = RabbitRouter()
        router.subscriber(
            RabbitQueue(
                self.queue(sub.topic, sub.group),
                queue_type=QueueType.QUORUM,
                durable=True,
                routing_key=sub.topic,
            ),
            self._exchange,
            channel=Channel(prefetch_count=sub.policy.concurrency),
            ack_policy=AckPolicy.MANUAL,
            title=f"{sub.topic}:{sub.group}",
            description=sub.description,
        )(call)
        broker.include_router(router, middlewares=[self._delivery(sub)])

    # --- what EventDelivery needs (shared.events.delivery.DeliveryBackend) ------------------------
    def message_id(self, msg: StreamMessage[Any]) -> str:
        return str(msg.message_id)

    async def delivery_count(self, msg: StreamMessage[Any], sub: Subscription) -> int:
        """How many times the broker has delivered this message to the group (1: the first time)."""
        if isinstance(self.broker, RedisBroker):
            # only a claimed message was delivered before: a fresh read saves the XPENDING round trip
            get_count = getattr(msg, "get_delivery_count", None)
            return int(await get_count()) if sub.claimed and get_count is not None else 1
        headers = getattr(msg.raw_message, "headers", None) or {}
        return int(headers.get("x-delivery-count") or 0) + 1

    async def keep_claimed(self, msg: StreamMessage[Any], sub: Subscription) -> bool:
        """Before an in-process retry: Redis re-claims the entry for this consumer (resets its idle
        time, counts the delivery); False if it is no longer pending here. RabbitMQ: nothing to do."""
        ids = msg.raw_message.get("message_ids") if isinstance(self.broker, RedisBroker) else None
        if not ids:
            return True
        claimed = await self._redis.xclaim(
            msg.raw_message["channel"], sub.group, self.consumer_name, min_idle_time=0, message_ids=ids
        )
        return bool(claimed) and claimed[0][1] is not None

    async def ack_handled(self, msg: StreamMessage[Any], sub: Subscription, done_key: str | None) -> None:
        """Remember the event id as handled (if given), then acknowledge the message.

        Redis: the XACK of the entry FastStream read is sent here, pipelined with the mark (one
        round trip) — also for a duplicate or a dead letter (no mark): `msg.ack()` alone left those
        entries pending in the group (measured: every skipped duplicate stayed pending)."""
        if isinstance(self.broker, RedisBroker) and (ids := msg.raw_message.get("message_ids")):
            pipe = self._redis.pipeline(transaction=False)
            if done_key is not None:
                pipe.set(done_key, b"1", ex=sub.policy.dedupe_ttl_seconds)
            pipe.xack(msg.raw_message["channel"], sub.group, *ids)
            await pipe.execute()
            return
        if done_key is not None:
            await self._redis.set(done_key, b"1", ex=sub.policy.dedupe_ttl_seconds)
        await msg.ack()

    async def write_dead_letter(self, letter: DeadLetter) -> None:
        fields: dict[Any, Any] = letter.fields(self.consumer_name)
        if isinstance(self.broker, RedisBroker):
            await self._redis.xadd(
                self.dead_letter_stream(letter.topic), fields, maxlen=self.limits.dlq_maxlen
            )
        else:
            queue = self._dead_letter_queue(letter.topic)
            await self.broker.publish(
                json.dumps(fields), queue=queue, persist=True, content_type="application/json"
            )

    def _dead_letter_queue(self, topic: str) -> RabbitQueue:
        return RabbitQueue(
            self.dead_letter_stream(topic), durable=True, arguments={"x-max-length": self.limits.dlq_maxlen}
        )

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """`before_start`, the broker's start, `after_start` (what a FastStream app's hooks run)."""
        await self.before_start()
        await self.broker.start()
        await self.after_start()

    async def before_start(self) -> None:
        """Redis: create the consumer groups at id 0 (FastStream would create a missing group at "$",
        skipping what was published before this service first ran)."""
        if self.kind != "redis":
            return
        for sub in self.subscriptions:
            try:
                await self._redis.xgroup_create(self.stream(sub.topic), sub.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def after_start(self) -> None:
        """RabbitMQ: declare the dead-letter queues; Redis: start sampling the backlog gauges."""
        if isinstance(self.broker, RabbitBroker):
            for topic in {sub.topic for sub in self.subscriptions}:
                await self.broker.declare_queue(self._dead_letter_queue(topic))
        self._started = True
        if self.kind == "redis" and self.backlog_sample_seconds and self.subscriptions:
            self._sampler = asyncio.create_task(self._sample_backlog_forever(), name="event-backlog-sampler")

    async def stop(self) -> None:
        """Stop consuming, let handlers in flight finish (bounded), close connections."""
        try:
            if self._started:
                await self.broker.stop()
        finally:
            await self.close()

    async def close(self) -> None:
        """What `stop` does besides stopping the broker (a FastStream app stops the broker itself)."""
        try:
            if self._sampler is not None:
                # a cancel that lands inside a redis-py command can be swallowed there: cancel until done
                while not self._sampler.done():
                    self._sampler.cancel()
                    await asyncio.wait({self._sampler}, timeout=0.05)
                with contextlib.suppress(asyncio.CancelledError):
                    await self._sampler
                self._sampler = None
        finally:
            self._started = False
            await self._redis.aclose()

    async def ping(self) -> None:
        """Raise if the broker (or the de-duplication Redis) does not answer (readiness checks)."""
        if not await self._redis.ping():
            raise ConnectionError("Redis did not answer PING")
        if self._started and not await self.broker.ping(timeout=5.0):
            raise ConnectionError(f"the {self.kind} broker did not answer")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def asyncapi(self, title: str, version: str = "1.0.0", description: str | None = None) -> dict[str, Any]:
        """AsyncAPI 3.0 document of this broker's channels (what it publishes and consumes)."""
        spec = AsyncAPI(
            self.broker, title=title, version=version, description=description, schema_version="3.0.0"
        )
        return spec.to_specification().to_jsonable()

    # --- backlog gauges (Redis) -------------------------------------------------------------------
    async def sample_backlog(self) -> dict[str, dict[str, dict[str, int | None]]]:
        """Set `event_stream_pending_messages` / `event_stream_lag_messages` for this bus's groups
        (XINFO GROUPS of each subscribed stream); returns {stream: {group: {pending, lag}}}."""
        wanted: dict[str, set[str]] = {}
        for sub in self.subscriptions:
            wanted.setdefault(self.stream(sub.topic), set()).add(sub.group)
        return {
            stream: await sample_stream_backlog(self._redis, stream, groups=groups)
            for stream, groups in wanted.items()
        }

    async def _sample_backlog_forever(self) -> None:
        assert self.backlog_sample_seconds
        while True:
            try:
                await self.sample_backlog()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a missed sample must never stop the consumer
                log.warning("could not sample the event stream backlog: %s", exc)
            await asyncio.sleep(self.backlog_sample_seconds)


def create_event_bus(url: str, *, service_name: str, **options: Any) -> EventBus:
    """`EventBus(url, ...)`: Redis Streams for redis:// URLs, RabbitMQ for amqp:// URLs."""
    return EventBus(url, service_name=service_name, **options)


def bus_from_settings(settings: Any, **options: Any) -> EventBus:
    """The service's bus from its settings (BROKER_URL or REDIS_URL, EVENT_* variables)."""
    options.setdefault(
        "policy",
        DeliveryPolicy(
            max_deliveries=settings.event_max_deliveries, claim_idle_ms=settings.event_claim_idle_ms
        ),
    )
    options.setdefault("limits", StreamLimits(maxlen=settings.event_stream_maxlen))
    options.setdefault("stream_prefix", settings.event_stream_prefix)
    options.setdefault("dedupe_url", settings.redis_url)
    return EventBus(settings.effective_broker_url, service_name=settings.service_name, **options)
