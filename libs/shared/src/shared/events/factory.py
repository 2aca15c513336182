"""Choose the EventBus implementation from a URL, so services never name a broker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from shared.events.bus import DeliveryPolicy, EventBus, StreamLimits
from shared.settings import BaseServiceSettings

BusFactory = Callable[..., EventBus]
_BACKENDS: dict[str, BusFactory] = {}


def register_backend(schemes: tuple[str, ...], factory: BusFactory) -> None:
    """Make `create_event_bus` build `factory(url, service_name=..., **options)` for these schemes."""
    for scheme in schemes:
        _BACKENDS[scheme] = factory


def _redis_streams(url: str, **options: Any) -> EventBus:
    from shared.events.redis_streams import RedisStreamsEventBus

    return RedisStreamsEventBus(url, **options)


register_backend(("redis", "rediss", "unix"), _redis_streams)


def create_event_bus(url: str, *, service_name: str, **options: Any) -> EventBus:
    """An EventBus for `url`: `redis://` / `rediss://` → Redis Streams.

    `amqp://` and `kafka://` are where FastStream's RabbitBroker / KafkaBroker implementations
    plug in (`register_backend`); services keep calling this function unchanged.
    """
    scheme = urlparse(url).scheme.lower()
    factory = _BACKENDS.get(scheme)
    if factory is None:
        known = ", ".join(sorted(_BACKENDS))
        raise ValueError(
            f"no EventBus implementation for {scheme or 'this'}:// URLs (BROKER_URL); available: {known}"
        )
    return factory(url, service_name=service_name, **options)


def bus_from_settings(settings: BaseServiceSettings, **options: Any) -> EventBus:
    """The service's bus from its settings (BROKER_URL or REDIS_URL, EVENT_* variables)."""
    options.setdefault(
        "policy",
        DeliveryPolicy(
            max_deliveries=settings.event_max_deliveries,
            claim_idle_ms=settings.event_claim_idle_ms,
        ),
    )
    options.setdefault("limits", StreamLimits(maxlen=settings.event_stream_maxlen))
    options.setdefault("stream_prefix", settings.event_stream_prefix)
    return create_event_bus(settings.effective_broker_url, service_name=settings.service_name, **options)
