"""The EventBus interface the services program against (seed phase 2: publish / subscribe).

Services never touch FastStream or Redis directly: they build a bus with `create_event_bus(url)`,
declare what they publish, subscribe handlers, and start it. Swapping Redis Streams for RabbitMQ or
Kafka is a new implementation of this class plus one line in the factory.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from shared.events.envelope import EventEnvelope

Handler = Callable[[EventEnvelope[Any]], Awaitable[None]]


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help: the message goes to the dead-letter stream now."""


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


DeadLetterHandler = Callable[[DeadLetter], Awaitable[None]]


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard a subscription tries before giving a message up to `<topic>.dlq`.

    `max_deliveries` counts every delivery of a message to a handler of the group, whichever process
    got it: in-process retries, redeliveries after a crash and claims all count, so a message that
    crashes its worker every time still ends in the dead-letter stream.
    """

    max_deliveries: int = 5
    backoff_initial: float = 0.2
    backoff_max: float = 5.0
    #: a message pending this long (ms) on a consumer is claimed by another one; keep it well above
    #: the longest a handler may legitimately run (the PDF render time limit, for instance)
    claim_idle_ms: int = 60_000
    #: how often (ms) consumers poll for new and abandoned messages
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
    topic: str
    group: str
    handler: Handler
    policy: DeliveryPolicy
    on_dead_letter: DeadLetterHandler | None = None
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class EventBus(abc.ABC):
    """publish(topic, message) / subscribe(topic, handler), at-least-once, with dead letters."""

    #: the consumer group used when `subscribe` is not given one (the service's name)
    service_name: str
    #: this process's unique consumer name within every group
    consumer_name: str

    @abc.abstractmethod
    async def publish(self, topic: str, message: EventEnvelope[Any]) -> str:
        """Publish an envelope (see `new_event`) once the broker has accepted it; returns its event id.

        Raises when the broker is unreachable: the caller decides (503, outbox, ...).
        """

    @abc.abstractmethod
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
        """Call `handler(envelope)` for every message of `topic`, once per consumer group.

        The message is acknowledged only after the handler returns. Handlers must be idempotent
        (delivery is at least once): use the event id or a business key.
        """

    @abc.abstractmethod
    def declare_publisher(self, topic: str, description: str | None = None) -> None:
        """Say this service publishes `topic` (documented in AsyncAPI; publish works without it)."""

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop consuming, let handlers in flight finish (bounded), close connections."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the broker does not answer (readiness checks)."""

    @abc.abstractmethod
    def asyncapi(self, title: str, version: str = "1.0.0", description: str | None = None) -> dict[str, Any]:
        """AsyncAPI 3.0 document of this bus's channels (what it publishes and consumes)."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
