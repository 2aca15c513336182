"""Per-empresa generations: O(1) invalidation of everything an area of an empresa has cached.

A cached entry records the generation (or, for one item, the item's version) it was computed under;
a reader accepts it only while that counter is unchanged. A write bumps the counter (one INCR), which
makes every older entry unreachable at once for every worker and replica, without a scan; orphaned
entries expire by their TTL. The areas own the bumps: each service bumps what its write changed
(`PlacaService` bumps "placas" and the placa's own version, `RegiaoService` "regioes"), before the
answer is sent, so a read that follows a write never sees the old data.

An invalidation Redis does not accept (outage) is owed: this process skips the empresa's cache until
Redis accepts it (retried in the background), so nothing stale is served once Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Iterable

from redis.asyncio import Redis
from shared import metrics

from core_api.lib.cache.circuit import REDIS_ERRORS, RedisCircuit

GENERATION_KEY = "cache:gen:{empresa}:{area}"
COUNT_KEY = "cache:count:{empresa}:{area}:{query}"
COUNT_TTL_SECONDS = 600


def area_key(empresa_id: str, area: str) -> str:
    """The generation counter of one area (placas, regioes, ...) of one empresa."""
    return GENERATION_KEY.format(empresa=empresa_id, area=area)


def version_key(entry_key: str) -> str:
    """The version counter of one item's entry (bumped when that item changes)."""
    return f"{entry_key}:v"


class TenantCache:
    """Redis client, circuit and generations of the read cache. One per app (`app.state.cache`)."""

    def __init__(self, redis: Redis, circuit: RedisCircuit | None = None, enabled: bool = True) -> None:
        self.redis = redis
        self.enabled = enabled
        self.circuit = circuit or RedisCircuit()
        #: empresa -> counters to bump that Redis has not accepted yet
        self._pending: dict[str, set[str]] = {}
        self._retry_task: asyncio.Task[None] | None = None

    def usable_for(self, empresa_id: str) -> bool:
        """False when the cache is off or an invalidation of this empresa has not reached Redis."""
        return self.enabled and empresa_id not in self._pending

    def owes_invalidation(self, empresa_id: str) -> bool:
        return empresa_id in self._pending

    async def invalidate(self, empresa_id: str, areas: Iterable[str] = (), items: Iterable[str] = ()) -> None:
        """Make the empresa's cached reads of `areas`, and the entries `items` (entry keys), stale."""
        keys = {area_key(empresa_id, a) for a in areas} | {version_key(k) for k in items}
        if not keys:
            return
        if not await self.circuit.call("http", "invalidate", lambda: self._bump(keys), False):
            # Redis is away: entries cached before this write may still be there when it returns.
            # This process bypasses the empresa's cache and retries until Redis accepts it.
            self._pending.setdefault(empresa_id, set()).update(keys)
            if self._retry_task is None or self._retry_task.done():
                self._retry_task = asyncio.get_running_loop().create_task(self._retry())

    async def counted(
        self, empresa_id: str, area: str, query: str, count: Callable[[], Awaitable[int]]
    ) -> int:
        """The number of documents matching `query` (its text form), kept per area generation: the
        pages of one list share one count until the area changes (FerretDB v1 scans the whole
        collection for a count). One MGET; the generation is read before counting, like an entry."""
        key = COUNT_KEY.format(
            empresa=empresa_id, area=area, query=hashlib.blake2b(query.encode()).hexdigest()
        )
        got = await self.circuit.call(
            "count", "get", lambda: self.redis.mget(key, area_key(empresa_id, area)), None
        )
        if got is None:
            return await count()
        generation = int(got[1] or 0)
        stored, _, total = (got[0] or b"").partition(b" ")
        if stored.isdigit() and int(stored) == generation and total.isdigit():
            metrics.cache_hit("count")
            return int(total)
        metrics.cache_miss("count")
        value = await count()
        await self.circuit.call(
            "count", "set", lambda: self.redis.set(key, f"{generation} {value}", ex=COUNT_TTL_SECONDS), None
        )
        return value

    async def _bump(self, keys: Iterable[str]) -> bool:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key)
            await pipe.execute()
        return True

    async def _retry(self) -> None:
        while self._pending:
            await asyncio.sleep(self.circuit.cooldown)
            for empresa_id, keys in list(self._pending.items()):
                try:
                    await self._bump(keys)
                except REDIS_ERRORS:
                    break
                self._pending.pop(empresa_id, None)

    async def close(self) -> None:
        if self._retry_task is not None:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task
