"""EventBus on Redis Streams through FastStream's RedisBroker.

Per subscription (topic × consumer group) two FastStream stream subscribers share one handler:

* a reader: `XREADGROUP … >` for new messages;
* a claimer: `StreamSub(min_idle_time=…)`. In FastStream 0.7.8 a subscriber with `min_idle_time`
  *only* runs `XAUTOCLAIM` (see `_StreamHandlerMixin.start`): it takes over messages left pending
  longer than that by a consumer that died, and never reads new ones, hence the pair.

Both use `AckPolicy.MANUAL`; `_DeliveryMiddleware` (a FastStream broker middleware) wraps every call:
it acknowledges after the handler returned, retries a failing handler with exponential backoff
(each retry is an `XCLAIM` to itself, so Redis's delivery counter counts it and a crash mid-backoff
loses nothing), and after `max_deliveries` writes the message and its error to `<topic>.dlq` and
acknowledges it. Validation errors and `PermanentError` go to the dead-letter stream at once.

Metrics (`shared.metrics`) are recorded here, so every service using the bus gets them: published /
publish failures per topic; each delivery to a handler by outcome (`success`, `failure`, or
`duplicate` when an already handled event id is skipped) with its handling time; retries (in-process
and claims of abandoned messages); dead letters. While the bus runs, a background task samples
XINFO GROUPS every `backlog_sample_seconds` and sets the pending/lag gauges of this bus's groups.
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
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Union

import pydantic
from fast_depends.exceptions import ValidationError as DependsValidationError
from faststream import AckPolicy, BaseMiddleware
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.message import RedisStreamMessage
from faststream.specification import AsyncAPI
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.events.bus import (
    DeadLetter,
    DeadLetterHandler,
    DeliveryPolicy,
    EventBus,
    Handler,
    PermanentError,
    StreamLimits,
    Subscription,
)
from shared.events.envelope import (
    EventEnvelope,
    UnsupportedSchemaVersion,
    current_event,
    envelope_type,
    parse_event,
    registered_events,
)
from shared.logging import request_id_var
from shared.metrics import (
    event_dead_lettered,
    event_handled,
    event_publish_failed,
    event_published,
    event_retried,
    sample_stream_backlog,
)

log = logging.getLogger("shared.events")

_PERMANENT = (PermanentError, pydantic.ValidationError, DependsValidationError, UnsupportedSchemaVersion)


def unique_consumer_name() -> str:
    """hostname-pid-random: unique per process, readable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def topic_model(topic: str) -> Any:
    """The envelope type(s) a topic accepts: every registered schema version of that event type."""
    models = [envelope_type(cls) for (t, _), cls in sorted(registered_events().items()) if t == topic]
    if not models:
        raise KeyError(f"no event payload is registered for topic {topic!r}")
    return models[0] if len(models) == 1 else Union[tuple(models)]  # noqa: UP007 - runtime union


class RedisStreamsEventBus(EventBus):
    """The Redis Streams EventBus (see the module docstring for the delivery guarantees)."""

    def __init__(
        self,
        url: str,
        *,
        service_name: str,
        policy: DeliveryPolicy | None = None,
        limits: StreamLimits | None = None,
        stream_prefix: str = "",
        consumer_name: str | None = None,
        graceful_timeout: float = 30.0,
        socket_timeout: float = 5.0,
        backlog_sample_seconds: float | None = 15.0,
    ) -> None:
        self.service_name = service_name
        self.consumer_name = consumer_name or unique_consumer_name()
        self.policy = policy or DeliveryPolicy()
        self.limits = limits or StreamLimits()
        self.stream_prefix = stream_prefix
        self._url = url
        self._broker = RedisBroker(
            url,
            middlewares=[functools.partial(_DeliveryMiddleware, bus=self)],
            graceful_timeout=graceful_timeout,
            logger=logging.getLogger("faststream"),
            log_level=logging.DEBUG,
            description="Redis Streams; consumer groups are named after the consuming service",
        )
        self._redis: Redis = Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self._subscriptions: dict[int, tuple[Subscription, bool]] = {}
        self._publishers: dict[str, Any] = {}
        self._started = False
        #: how often the pending/lag gauges are refreshed while the bus runs (None: never)
        self.backlog_sample_seconds = backlog_sample_seconds
        self._sampler: asyncio.Task[None] | None = None

    # --- names -------------------------------------------------------------------------------
    def stream(self, topic: str) -> str:
        return f"{self.stream_prefix}{topic}"

    def dead_letter_stream(self, topic: str) -> str:
        return f"{self.stream_prefix}{topic}.dlq"

    def _done_key(self, group: str, event_id: str) -> str:
        return f"{self.stream_prefix}events:handled:{group}:{event_id}"

    @property
    def redis(self) -> Redis:
        """The bus's own Redis client (dead letters, claims, inspection in tests)."""
        return self._redis

    # --- EventBus ------------------------------------------------------------------------------
    def declare_publisher(self, topic: str, description: str | None = None) -> None:
        if topic in self._publishers:
            return
        self._publishers[topic] = self._broker.publisher(
            stream=StreamSub(self.stream(topic), maxlen=self.limits.maxlen),
            schema=topic_model(topic),
            title=f"{topic}:publish",
            description=description or f"{self.service_name} publishes {topic}",
        )

    async def publish(self, topic: str, message: EventEnvelope[Any]) -> str:
        if not isinstance(message, EventEnvelope):
            raise TypeError("publish takes an EventEnvelope; wrap payloads with shared.events.new_event")
        if message.type != topic:
            raise ValueError(f"an event of type {message.type!r} cannot be published to {topic!r}")
        body = message.model_dump(mode="json", by_alias=True)
        try:
            if topic in self._publishers:
                await self._publishers[topic].publish(
                    body, correlation_id=message.correlation_id or message.event_id
                )
            else:
                await self._broker.publish(
                    body,
                    stream=self.stream(topic),
                    maxlen=self.limits.maxlen,
                    correlation_id=message.correlation_id or message.event_id,
                )
        except Exception:
            event_publish_failed(topic)
            raise
        event_published(topic)
        return message.event_id

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
        if self._started:
            raise RuntimeError("subscribe before start(): subscriptions are fixed while the bus runs")
        sub = Subscription(
            topic=topic,
            group=group or self.service_name,
            handler=handler,
            policy=policy or self.policy,
            on_dead_letter=on_dead_letter,
            description=description or handler.__doc__,
        )
        model = topic_model(topic)

        async def call(event: Any) -> None:
            token = current_event.set(event)
            try:
                await handler(event)
            finally:
                current_event.reset(token)

        call.__annotations__ = {"event": model, "return": None}
        call.__name__ = getattr(handler, "__name__", "handler")
        call.__doc__ = sub.description
        stream = self.stream(topic)
        # read no more than we handle at once: a message read early but waiting in this process
        # would look abandoned to claimers (ours included) once it has been idle claim_idle_ms
        common: dict[str, Any] = {
            "group": sub.group,
            "consumer": self.consumer_name,
            "polling_interval": sub.policy.polling_interval_ms,
            "max_records": sub.policy.concurrency,
        }
        workers = sub.policy.concurrency if sub.policy.concurrency > 1 else None
        reader = self._broker.subscriber(
            stream=StreamSub(stream, **common),
            ack_policy=AckPolicy.MANUAL,
            max_workers=workers,
            title=f"{topic}:{sub.group}",
            description=sub.description,
        )
        claimer = self._broker.subscriber(
            stream=StreamSub(stream, min_idle_time=sub.policy.claim_idle_ms, **common),
            ack_policy=AckPolicy.MANUAL,
            include_in_schema=False,
        )
        reader(call)
        claimer(call)
        self._subscriptions[id(reader)] = (sub, False)
        self._subscriptions[id(claimer)] = (sub, True)
        return sub

    async def start(self) -> None:
        # FastStream creates a missing group at "$" (only messages published from now on). Create
        # ours at "0" first, so events published before this service ever ran are not skipped.
        for sub, _ in self._subscriptions.values():
            try:
                await self._redis.xgroup_create(self.stream(sub.topic), sub.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        await self._broker.start()
        self._started = True
        if self.backlog_sample_seconds and self._subscriptions:
            self._sampler = asyncio.create_task(self._sample_backlog_forever(), name="event-backlog-sampler")

    async def stop(self) -> None:
        try:
            if self._sampler is not None:
                # a cancel that lands inside a redis-py command can be swallowed there, and the task
                # then sleeps `backlog_sample_seconds` before it sees the next one: cancel until done
                while not self._sampler.done():
                    self._sampler.cancel()
                    await asyncio.wait({self._sampler}, timeout=0.05)
                with contextlib.suppress(asyncio.CancelledError):
                    await self._sampler
                self._sampler = None
            if self._started:
                await self._broker.stop()
        finally:
            self._started = False
            await self._redis.aclose()

    # --- backlog gauges ------------------------------------------------------------------------
    async def sample_backlog(self) -> dict[str, dict[str, dict[str, int | None]]]:
        """Set `event_stream_pending_messages` / `event_stream_lag_messages` for this bus's groups
        (XINFO GROUPS of each subscribed stream); returns {stream: {group: {pending, lag}}}."""
        wanted: dict[str, set[str]] = {}
        for sub, _ in self._subscriptions.values():
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
                log.warning("could not sample the event stream backlog: %s", _error_text(exc))
            await asyncio.sleep(self.backlog_sample_seconds)

    async def ping(self) -> None:
        if not await self._redis.ping():
            raise ConnectionError("Redis did not answer PING")

    def asyncapi(self, title: str, version: str = "1.0.0", description: str | None = None) -> dict[str, Any]:
        spec = AsyncAPI(
            self._broker, title=title, version=version, description=description, schema_version="3.0.0"
        )
        return spec.to_specification().to_jsonable()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- delivery ------------------------------------------------------------------------------
    def _subscription_of(self, subscriber: Any) -> tuple[Subscription, bool] | None:
        return self._subscriptions.get(id(subscriber)) if subscriber is not None else None

    async def _deliver(
        self, sub: Subscription, claimed: bool, call_next: Any, msg: RedisStreamMessage
    ) -> Any:
        policy = sub.policy
        stream = msg.raw_message["channel"]
        message_id = msg.raw_message["message_ids"][0]
        body: Any = None
        try:
            body = await msg.decode()
        except Exception as exc:  # noqa: BLE001 - undecodable bytes: nothing will ever handle them
            return await self._give_up(sub, msg, body, 1, exc)
        event_id = body.get("eventId") if isinstance(body, dict) else None
        correlation = body.get("correlationId") if isinstance(body, dict) else None
        rid_token = request_id_var.set(correlation if isinstance(correlation, str) else None)
        try:
            done_key = self._done_key(sub.group, event_id) if isinstance(event_id, str) and event_id else None
            if done_key and await self._redis.exists(done_key):
                log.info(
                    "duplicate of an event already handled; acknowledged",
                    extra={"event_id": event_id, "topic": sub.topic},
                )
                await msg.ack()
                event_handled(sub.topic, sub.group, "duplicate")
                return None
            deliveries = await msg.get_delivery_count() if claimed else 1
            if claimed and deliveries > policy.max_deliveries:
                err = RuntimeError(
                    f"abandoned {deliveries - 1} times by consumers that stopped while handling it"
                )
                return await self._give_up(sub, msg, body, deliveries, err)
            if claimed:
                event_retried(sub.topic, sub.group)  # taken over from a consumer that stopped
            while True:
                started = time.perf_counter()
                try:
                    result = await call_next(msg)
                except asyncio.CancelledError:
                    raise  # shutdown: left pending for another consumer, not a handler outcome
                except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
                    event_handled(sub.topic, sub.group, "failure", time.perf_counter() - started)
                    permanent = isinstance(exc, _PERMANENT)
                    if not permanent:
                        deliveries = max(deliveries, await msg.get_delivery_count())
                    if permanent or deliveries >= policy.max_deliveries:
                        return await self._give_up(sub, msg, body, deliveries, exc)
                    delay = policy.backoff(deliveries)
                    log.warning(
                        "handler failed (delivery %d of %d), retrying in %.2fs: %s",
                        deliveries,
                        policy.max_deliveries,
                        delay,
                        _error_text(exc),
                        extra={"topic": sub.topic, "group": sub.group, "event_id": event_id},
                    )
                    await asyncio.sleep(delay)
                    # XCLAIM to ourselves: bumps the delivery counter and the idle time, so other
                    # consumers' claimers leave it alone while we retry
                    claimed_now = await self._redis.xclaim(
                        stream, sub.group, self.consumer_name, min_idle_time=0, message_ids=[message_id]
                    )
                    if not claimed_now or claimed_now[0][1] is None:
                        log.warning(
                            "message vanished from the stream (trimmed?) while retrying",
                            extra={"topic": sub.topic},
                        )
                        return None
                    deliveries += 1
                    event_retried(sub.topic, sub.group)
                else:
                    event_handled(sub.topic, sub.group, "success", time.perf_counter() - started)
                    if done_key:
                        await self._redis.set(done_key, b"1", ex=policy.dedupe_ttl_seconds)
                    await msg.ack()
                    return result
        finally:
            request_id_var.reset(rid_token)

    async def _give_up(
        self, sub: Subscription, msg: Any, body: Any, deliveries: int, exc: BaseException
    ) -> None:
        raw_msg = msg.raw_message if hasattr(msg, "raw_message") else msg
        message_id = raw_msg["message_ids"][0]
        raw = json.dumps(body, default=str) if body is not None else repr(raw_msg.get("data"))[:100_000]
        letter = DeadLetter(
            topic=sub.topic,
            group=sub.group,
            message_id=message_id.decode() if isinstance(message_id, bytes) else str(message_id),
            deliveries=deliveries,
            error=_error_text(exc),
            failed_at=datetime.now(UTC),
            raw=raw,
        )
        with contextlib.suppress(Exception):
            letter = DeadLetter(**{**letter.__dict__, "event": parse_event(body)})
        await self._redis.xadd(
            self.dead_letter_stream(sub.topic),
            {
                "topic": letter.topic,
                "group": letter.group,
                "messageId": letter.message_id,
                "deliveries": str(letter.deliveries),
                "error": letter.error,
                "failedAt": letter.failed_at.isoformat(),
                "consumer": self.consumer_name,
                "event": letter.raw,
            },
            maxlen=self.limits.dlq_maxlen,
        )
        # acknowledged only once the dead letter is safely written
        await self._redis.xack(raw_msg["channel"], sub.group, message_id)
        event_dead_lettered(sub.topic, sub.group)
        log.error(
            "message dead-lettered after %d deliveries: %s",
            deliveries,
            letter.error,
            extra={
                "topic": sub.topic,
                "group": sub.group,
                "dead_letter_stream": self.dead_letter_stream(sub.topic),
            },
        )
        if sub.on_dead_letter is not None:
            try:
                await sub.on_dead_letter(letter)
            except Exception:
                log.exception("on_dead_letter hook failed", extra={"topic": sub.topic})
        return None


class _DeliveryMiddleware(BaseMiddleware):
    """Routes every stream message of the bus's subscriptions through `RedisStreamsEventBus._deliver`."""

    def __init__(self, msg: Any, /, *, context: Any, bus: RedisStreamsEventBus) -> None:
        super().__init__(msg, context=context)
        self._bus = bus
        self._entered = False

    def _subscription(self) -> tuple[Subscription, bool] | None:
        return self._bus._subscription_of(self.context.get_local("handler_") or self.context.get("handler_"))

    async def consume_scope(self, call_next: Any, msg: Any) -> Any:
        found = self._subscription()
        if found is None or not isinstance(msg, RedisStreamMessage) or msg.group is None:
            return await call_next(msg)
        self._entered = True
        sub, claimed = found
        return await self._bus._deliver(sub, claimed, call_next, msg)

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        # only failures before the handler ran (FastStream could not parse the entry) get here
        if exc_val is None or self._entered or not isinstance(exc_val, Exception):
            return False
        found = self._subscription()
        if found is None or not isinstance(self.msg, dict) or "message_ids" not in self.msg:
            return False
        await self._bus._give_up(found[0], self.msg, None, 1, exc_val)
        return True
