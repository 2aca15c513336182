"""The delivery guarantees of every subscription, as one FastStream middleware (`EventDelivery`).

FastStream reads, parses and acknowledges; this middleware adds what the platform promises on top,
on any broker FastStream runs (Redis Streams, RabbitMQ), with FastStream's public API only:

* de-duplication by event id: an event id already handled by the consumer group is acknowledged
  and skipped (`events:handled:<group>:<eventId>`, kept `dedupe_ttl_seconds` in Redis);
* retries with exponential backoff (in process) while the delivery count stays under
  `max_deliveries` (on Redis each retry re-claims the entry for this consumer, `XCLAIM`, so no other
  consumer's claimer takes it meanwhile and Redis counts the delivery); the broker's own count (Redis: XPENDING, RabbitMQ quorum queues:
  `x-delivery-count`) includes deliveries to consumers that died, so a message that crashes its
  worker every time still reaches the cap;
* the dead-letter queue: after the cap, or at once for `PermanentError` and invalid messages, the
  message and its error go to `<topic>.dlq`, then the message is acknowledged;
* Prometheus metrics (`shared.metrics`): each delivery by outcome (`success`, `failure`,
  `duplicate`) with its handling time, retries, dead letters; publishes and publish failures.

The same class is installed twice: on the broker (publish metrics; consuming passes through) and on
each subscription's router with that subscription bound (`Subscription`), which is how it knows its
topic, group and policy without reading FastStream's internal state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import pydantic
from fast_depends.exceptions import ValidationError as DependsValidationError
from faststream import BaseMiddleware, ContextRepo
from faststream.message import StreamMessage

from shared.events.envelope import EventEnvelope, UnsupportedSchemaVersion, parse_event
from shared.logging import request_id_var
from shared.metrics import (
    event_dead_lettered,
    event_handled,
    event_publish_failed,
    event_published,
    event_retried,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("shared.events")

Handler = Callable[[EventEnvelope[Any]], Awaitable[None]]


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help: the message goes to the dead-letter queue now."""


_PERMANENT = (PermanentError, pydantic.ValidationError, DependsValidationError, UnsupportedSchemaVersion)


@dataclass(frozen=True)
class DeadLetter:
    """What a dead-letter entry says about a message that could not be handled."""

    topic: str
    group: str
    message_id: str
    deliveries: int
    error: str
    failed_at: datetime
    raw: str
    event: EventEnvelope[Any] | None = None

    def fields(self, consumer: str) -> dict[str, str]:
        """The entry as written to `<topic>.dlq` (flat strings: a stream entry or a JSON object)."""
        return {
            "topic": self.topic,
            "group": self.group,
            "messageId": self.message_id,
            "deliveries": str(self.deliveries),
            "error": self.error,
            "failedAt": self.failed_at.isoformat(),
            "consumer": consumer,
            "event": self.raw,
        }


DeadLetterHandler = Callable[[DeadLetter], Awaitable[None]]


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard a subscription tries before giving a message up to `<topic>.dlq`.

    `max_deliveries` counts every delivery of a message to a handler of the group, whichever process
    got it: in-process retries, redeliveries after a crash and claims all count.
    """

    max_deliveries: int = 5
    backoff_initial: float = 0.2
    backoff_max: float = 5.0
    #: (Redis) a message pending this long (ms) on a consumer is claimed by another one; keep it well
    #: above the longest a handler may run with its retries (the PDF render time limit, for instance)
    claim_idle_ms: int = 60_000
    #: (Redis) how often (ms) consumers poll for new and abandoned messages
    polling_interval_ms: int = 100
    #: handled event ids are remembered this long, so a re-published duplicate is skipped cheaply
    dedupe_ttl_seconds: int = 24 * 3600
    #: messages handled at the same time by one process for this subscription
    concurrency: int = 1

    def backoff(self, deliveries: int) -> float:
        return min(self.backoff_initial * (2 ** max(deliveries - 1, 0)), self.backoff_max)


@dataclass(frozen=True)
class StreamLimits:
    """Streams are capped (approximately, XADD MAXLEN ~) so Redis memory stays bounded."""

    maxlen: int = 100_000
    dlq_maxlen: int = 10_000


@dataclass
class Subscription:
    """One consumer group's subscription to a topic, as the middleware sees it."""

    topic: str
    group: str
    handler: Handler
    policy: DeliveryPolicy
    on_dead_letter: DeadLetterHandler | None = None
    description: str | None = None
    #: True for the Redis subscriber that only claims abandoned messages (they were delivered before)
    claimed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class DeliveryBackend(Protocol):
    """What the middleware needs from the bus: the dedupe store, the dead-letter writer, acks."""

    consumer_name: str

    @property
    def redis(self) -> Redis: ...

    def dedupe_key(self, group: str, event_id: str) -> str: ...

    async def write_dead_letter(self, letter: DeadLetter) -> None: ...

    async def delivery_count(self, msg: StreamMessage[Any], sub: Subscription) -> int: ...

    async def ack_handled(self, msg: StreamMessage[Any], sub: Subscription, done_key: str | None) -> None: ...

    def message_id(self, msg: StreamMessage[Any]) -> str: ...

    async def keep_claimed(self, msg: StreamMessage[Any], sub: Subscription) -> bool: ...


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


class EventDelivery(BaseMiddleware):
    """De-duplication, retries with backoff, the delivery cap, dead letters and metrics (see module)."""

    def __init__(
        self,
        msg: Any,
        /,
        *,
        context: ContextRepo,
        backend: DeliveryBackend,
        subscription: Subscription | None = None,
    ) -> None:
        super().__init__(msg, context=context)
        self._backend = backend
        self._sub = subscription
        self._handled = False

    # --- publishing: metrics ----------------------------------------------------------------------
    async def publish_scope(self, call_next: Callable[[Any], Awaitable[Any]], cmd: Any) -> Any:
        body = getattr(cmd, "body", None)
        topic = body.type if isinstance(body, EventEnvelope) else None
        if topic is None:
            return await call_next(cmd)
        try:
            result = await call_next(cmd)
        except Exception:
            event_publish_failed(topic)
            raise
        event_published(topic)
        return result

    # --- consuming ----------------------------------------------------------------------------------
    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]) -> Any:
        sub = self._sub
        if sub is None:
            return await call_next(msg)
        self._handled = True
        body: Any = None
        try:
            body = await msg.decode()
        except Exception as exc:  # noqa: BLE001 - undecodable bytes: nothing will ever handle them
            return await self._give_up(sub, msg, body, 1, exc)
        event_id = body.get("eventId") if isinstance(body, dict) else None
        correlation = body.get("correlationId") if isinstance(body, dict) else None
        rid_token = request_id_var.set(correlation if isinstance(correlation, str) else None)
        try:
            return await self._deliver(sub, call_next, msg, body, event_id)
        finally:
            request_id_var.reset(rid_token)

    async def _deliver(
        self,
        sub: Subscription,
        call_next: Callable[[Any], Awaitable[Any]],
        msg: StreamMessage[Any],
        body: Any,
        event_id: Any,
    ) -> Any:
        backend, policy = self._backend, sub.policy
        done_key = backend.dedupe_key(sub.group, event_id) if isinstance(event_id, str) and event_id else None
        if done_key and await backend.redis.exists(done_key):
            log.info(
                "duplicate of an event already handled; acknowledged",
                extra={"event_id": event_id, "topic": sub.topic},
            )
            await backend.ack_handled(msg, sub, None)
            event_handled(sub.topic, sub.group, "duplicate")
            return None
        deliveries = await backend.delivery_count(msg, sub)
        if deliveries > 1:
            if deliveries > policy.max_deliveries:
                err = RuntimeError(f"abandoned {deliveries - 1} times by consumers that stopped handling it")
                return await self._give_up(sub, msg, body, deliveries - 1, err)
            event_retried(sub.topic, sub.group)  # taken over from a consumer that stopped
        while True:
            started = time.perf_counter()
            try:
                result = await call_next(msg)
            except asyncio.CancelledError:
                raise  # shutdown: left unacknowledged for another consumer, not a handler outcome
            except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
                event_handled(sub.topic, sub.group, "failure", time.perf_counter() - started)
                if isinstance(exc, _PERMANENT) or deliveries >= policy.max_deliveries:
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
                if not await backend.keep_claimed(msg, sub):
                    log.warning(
                        "message gone while retrying (trimmed, or taken over)", extra={"topic": sub.topic}
                    )
                    return None
                deliveries += 1
                event_retried(sub.topic, sub.group)
            else:
                event_handled(sub.topic, sub.group, "success", time.perf_counter() - started)
                await backend.ack_handled(msg, sub, done_key)
                return result

    async def _give_up(
        self, sub: Subscription, msg: StreamMessage[Any], body: Any, deliveries: int, exc: BaseException
    ) -> None:
        backend = self._backend
        raw = json.dumps(body, default=str) if body is not None else repr(msg.body)[:100_000]
        letter = DeadLetter(
            topic=sub.topic,
            group=sub.group,
            message_id=backend.message_id(msg),
            deliveries=deliveries,
            error=_error_text(exc),
            failed_at=datetime.now(UTC),
            raw=raw,
        )
        with contextlib.suppress(Exception):
            letter = DeadLetter(**{**letter.__dict__, "event": parse_event(body)})
        await backend.write_dead_letter(letter)
        # acknowledged only once the dead letter is safely written
        await backend.ack_handled(msg, sub, None)
        event_dead_lettered(sub.topic, sub.group)
        log.error(
            "message dead-lettered after %d deliveries: %s",
            deliveries,
            letter.error,
            extra={"topic": sub.topic, "group": sub.group},
        )
        if sub.on_dead_letter is not None:
            try:
                await sub.on_dead_letter(letter)
            except Exception:
                log.exception("on_dead_letter hook failed", extra={"topic": sub.topic})
        return None
