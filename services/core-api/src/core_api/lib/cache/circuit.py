"""The fail-open circuit every cache call goes through: a Redis failure opens it for a moment, during
which the cache is skipped without touching Redis, so an outage costs one timeout per process, not one
per request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.exceptions import RedisError
from shared import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

REDIS_ERRORS = (RedisError, OSError, TimeoutError, asyncio.TimeoutError)


class RedisCircuit:
    """Skips Redis for `cooldown` seconds after a failure, so an outage does not add a timeout to
    every request; the first call after the cooldown probes Redis again (caching resumes by itself)."""

    def __init__(self, cooldown: float = 2.0) -> None:
        self.cooldown = cooldown
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self) -> None:
        self._open_until = time.monotonic() + self.cooldown

    async def call(self, cache: str, operation: str, fn: Callable[[], Awaitable[Any]], default: T) -> Any | T:
        """Run `fn` unless the circuit is open; on a Redis failure count it, open, return `default`."""
        if self.is_open:
            metrics.cache_error(cache, operation)
            return default
        try:
            return await fn()
        except REDIS_ERRORS as exc:
            self.trip()
            metrics.cache_error(cache, operation)
            log.warning("redis unavailable for %s %s, continuing without cache: %s", cache, operation, exc)
            return default
