"""The response cache of read routes: a route opts in with `opt=cached(area, ttl)`.

A hit is one Redis command in all: the auth step reads the user's token version (revocation) and,
in the same MGET, the entry and its generation (`planned_read`, `remember_read`); no lock, no write,
no hashing. In order, for a GET of a cached route:

1. Admins (the seed's rule), CSV exports and a cache that is off or owes an invalidation skip the
   cache: the route runs, the answer still gets an ETag.
2. Entry + generation (read by the auth step, else one MGET here). An entry of the current generation that is still fresh is sent as
   stored (ETag and headers included; 304 when If-None-Match names it).
3. Current but past its freshness (the TTL): stale-while-revalidate. One request takes the refresh
   lock (redis-py `Lock`: SET NX PX, released by a Lua check-and-delete) and recomputes; every other
   request meanwhile gets the stale entry at once. An expiry under load never stalls the route.
4. Missing or of an older generation (a write happened): single-flight. In a process, one request
   computes and the others wait for its result (no Redis traffic); across processes one holds the
   lock while the others poll the entry (MGET of entry, generation and lock, one command per poll)
   until it appears or the lock goes away. The lock's timeout is far longer than a recompute under
   load, and a follower whose leader vanished computes itself: no request is left unanswered.

The stored entry carries the generation read *before* MongoDB: a recompute that raced a write is
stored under the old generation, which no later reader accepts (the classic cache-aside race cannot
pin stale data).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)
from redis.asyncio.lock import Lock
from redis.exceptions import LockError
from shared import metrics

from core_api.lib.cache.generations import TenantCache, area_key
from core_api.lib.cache.store import PRIVATE_REVALIDATE, CachedResponse
from core_api.lib.listing import wanted_format

OPT_KEY = "read_cache"
ENTRY_KEY = "cache:http:{empresa}:{area}:{path}?{query}"
LOCK_KEY = "cache:lock:{key}"
#: a recompute that takes longer than this lets another one start (far above any page under load)
LOCK_TIMEOUT_SECONDS = 30.0
#: how long a stale entry stays in Redis past its freshness, to be served while one request refreshes
STALE_GRACE_SECONDS = 120
POLL_SECONDS = 0.02

#: scope["state"] key of the entry the auth step already read (see `planned_read`)
PREFETCHED = "read_cache_prefetched"

KeyBuilder = Callable[[Scope, str], tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class CachePolicy:
    """How a route is cached: its area, freshness, and optionally its own keys (entry, version)."""

    area: str
    ttl: int
    keys: KeyBuilder | None = None

    def keys_for(self, scope: Scope, empresa_id: str) -> tuple[str, str]:
        if self.keys is not None:
            return self.keys(scope, empresa_id)
        raw = scope.get("query_string", b"")
        query = urlencode(sorted(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))) if raw else ""
        entry = ENTRY_KEY.format(empresa=empresa_id, area=self.area, path=scope["path"], query=query)
        return entry, area_key(empresa_id, self.area)


def cached(area: str, ttl: int, keys: KeyBuilder | None = None) -> dict[str, Any]:
    """Route `opt` that caches the route's answers per empresa and query under `area`."""
    return {OPT_KEY: CachePolicy(area, ttl, keys)}


def planned_read(scope: Scope, empresa_id: str, role: str) -> tuple[str, str] | None:
    """The (entry, version) keys this request will read from the cache, or None.

    The auth step reads the user's token version from Redis anyway: it reads these keys in the same
    MGET and hands them over with `remember_read`, so a hit costs one Redis command in all."""
    handler = scope.get("route_handler")
    policy: CachePolicy | None = handler.opt.get(OPT_KEY) if handler is not None else None
    if policy is None or scope.get("method") != "GET" or role == "admin" or _wants_csv(scope):
        return None
    cache: TenantCache = scope["litestar_app"].state.cache
    if not cache.usable_for(empresa_id) or cache.circuit.is_open:
        return None
    return policy.keys_for(scope, empresa_id)


def remember_read(scope: Scope, keys: tuple[str, str], values: list[Any]) -> None:
    """What the auth step read for `planned_read`'s keys (the entry, then its version)."""
    scope.setdefault("state", {})[PREFETCHED] = (keys, values[0], values[1])


@dataclasses.dataclass
class _Captured:
    status: int = 500
    headers: list[tuple[bytes, bytes]] = dataclasses.field(default_factory=list)
    body: bytearray = dataclasses.field(default_factory=bytearray)
    start: Message | None = None


class ResponseCacheMiddleware:
    """Serves cached routes from Redis (see the module docstring); other requests pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        #: entry key -> the in-process recompute other requests of this process wait for
        self._inflight: dict[str, asyncio.Future[CachedResponse | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        policy: CachePolicy | None = handler.opt.get(OPT_KEY) if handler is not None else None
        if policy is None or scope["type"] != ScopeType.HTTP or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        if _wants_csv(scope):
            await self.app(scope, receive, send)  # a streamed export is neither cached nor buffered
            return
        user = scope.get("user")
        empresa_id: str | None = getattr(user, "empresa_id", None)
        if empresa_id is None or getattr(user, "role", None) == "admin":
            await self._uncached(scope, receive, send, b"no-store")
            return
        cache: TenantCache = scope["litestar_app"].state.cache
        if not cache.usable_for(empresa_id):
            await self._uncached(scope, receive, send)
            return
        prefetched = scope.get("state", {}).pop(PREFETCHED, None)
        if prefetched is not None:
            (key, version), got = (
                prefetched[0],
                prefetched[1:],
            )  # read by the auth step with the token version
        else:
            key, version = policy.keys_for(scope, empresa_id)
            got = await cache.circuit.call("http", "get", lambda: cache.redis.mget(key, version), None)
        if got is None:
            await self._uncached(scope, receive, send)  # Redis away: fail open
            return
        generation = int(got[1] or 0)
        entry = CachedResponse.decode(got[0])
        if entry is not None and entry.generation == generation:
            metrics.cache_hit("http")
            lock = None if entry.is_fresh else await self._take_lock(cache, key)
            if lock is None:
                await _send_entry(scope, send, entry)  # fresh, or stale while another request refreshes
                return
            await self._refresh(scope, receive, send, cache, policy, key, generation, lock)
            return
        metrics.cache_miss("http")
        await self._miss(scope, receive, send, cache, policy, key, version, generation)

    # -- stale: one refresh -----------------------------------------------------------------------
    async def _take_lock(self, cache: TenantCache, key: str) -> Lock | None:
        lock = cache.redis.lock(LOCK_KEY.format(key=key), timeout=LOCK_TIMEOUT_SECONDS, blocking=False)
        acquired = await cache.circuit.call("lock", "acquire", lock.acquire, False)
        return lock if acquired else None

    async def _refresh(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        cache: TenantCache,
        policy: CachePolicy,
        key: str,
        generation: int,
        lock: Lock | None,
    ) -> CachedResponse | None:
        """Recompute and store; `lock` (when this request holds it) is released after."""
        try:
            return await self._compute(scope, receive, send, cache, policy, key, generation)
        finally:
            if lock is not None:
                await _release(cache, lock)

    # -- miss: single flight ----------------------------------------------------------------------
    async def _miss(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        cache: TenantCache,
        policy: CachePolicy,
        key: str,
        version: str,
        generation: int,
    ) -> None:
        leader = self._inflight.get(key)
        if leader is not None:
            entry = await asyncio.shield(leader)
            if entry is not None:
                await _send_entry(scope, send, entry)
            else:
                await self._uncached(scope, receive, send)  # the leader's answer was not storable
            return
        future: asyncio.Future[CachedResponse | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        entry = None
        try:
            lock = await self._take_lock(cache, key)
            if lock is None and not cache.circuit.is_open:
                entry = await self._wait_for_other_process(cache, key, version, generation)
                if entry is not None:
                    await _send_entry(scope, send, entry)
                    return
                lock = await self._take_lock(cache, key)  # None: compute anyway, never stall
            entry = await self._refresh(scope, receive, send, cache, policy, key, generation, lock)
        finally:
            self._inflight.pop(key, None)
            future.set_result(entry)

    async def _wait_for_other_process(
        self, cache: TenantCache, key: str, version: str, generation: int
    ) -> CachedResponse | None:
        """Poll until another process's recompute is stored, its lock goes away or times out."""
        lock_key = LOCK_KEY.format(key=key)
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            got = await cache.circuit.call(
                "http", "get", lambda: cache.redis.mget(key, version, lock_key), None
            )
            if got is None:
                return None
            entry = CachedResponse.decode(got[0])
            if entry is not None and entry.generation >= generation and entry.generation == int(got[1] or 0):
                return entry
            if got[2] is None:
                return None  # the other process finished without a usable entry: compute here
        return None

    # -- computing --------------------------------------------------------------------------------
    async def _compute(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        cache: TenantCache,
        policy: CachePolicy,
        key: str,
        generation: int,
    ) -> CachedResponse | None:
        """Run the route; store and send a 200, pass anything else through unstored."""
        captured = await _capture(self.app, scope, receive)
        if captured.status != 200:
            await _send_captured(send, captured)
            return None
        entry = CachedResponse.build(generation, policy.ttl, captured.headers, bytes(captured.body))
        await cache.circuit.call(
            "http",
            "set",
            lambda: cache.redis.set(key, entry.encode(), ex=policy.ttl + STALE_GRACE_SECONDS),
            None,
        )
        await _send_entry(scope, send, entry)
        return entry

    async def _uncached(self, scope: Scope, receive: Receive, send: Send, cache_control: bytes = b"") -> None:
        """The route's answer, not stored, with an ETag (and 304) all the same."""
        captured = await _capture(self.app, scope, receive)
        if captured.status != 200:
            await _send_captured(send, captured)
            return
        entry = CachedResponse.build(
            0, 0, captured.headers, bytes(captured.body), cache_control or PRIVATE_REVALIDATE
        )
        await _send_entry(scope, send, entry)


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> _Captured:
    captured = _Captured()

    async def buffer(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured.start = message
            captured.status = message["status"]
            captured.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            captured.body.extend(message.get("body", b""))

    await app(scope, receive, buffer)
    return captured


async def _send_captured(send: Send, captured: _Captured) -> None:
    if captured.start is None:
        return
    await send(captured.start)
    await send(_body(bytes(captured.body)))


async def _send_entry(scope: Scope, send: Send, entry: CachedResponse) -> None:
    if_none_match = _header(scope, b"if-none-match")
    if if_none_match is not None and entry.matches(if_none_match):
        await send(_start(304, entry.not_modified_headers()))
        await send(_body(b""))
        return
    await send(_start(200, entry.headers))
    await send(_body(entry.body))


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> HTTPResponseStartEvent:
    return {"type": "http.response.start", "status": status, "headers": headers}


def _body(body: bytes) -> HTTPResponseBodyEvent:
    return {"type": "http.response.body", "body": body, "more_body": False}


async def _release(cache: TenantCache, lock: Lock) -> None:
    async def release() -> None:
        # Lua: deletes the key only while it still holds our token; LockError: it expired (a
        # recompute longer than the timeout) and someone else may hold it now
        with contextlib.suppress(LockError):
            await lock.release()

    await cache.circuit.call("lock", "release", release, None)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _wants_csv(scope: Scope) -> bool:
    raw: bytes = scope.get("query_string", b"")
    accept = _header(scope, b"accept") or b""
    if b"csv" not in raw and b"csv" not in accept:
        return False
    return wanted_format(Request(scope)) == "csv"
