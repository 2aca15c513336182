"""The read path's Redis cache: Litestar's response cache on a fail-open Redis store, per-tenant
generation keys for O(1) invalidation, a cache-aside helper, stampede protection and ETag/304.

How a cached list request flows:
1. `TenantCacheMiddleware` (after JWT auth, before the route) sees a route with `cache=...`. For an
   admin it marks the request "bypass" (admins always read MongoDB). Otherwise it reads the
   generation of the route's area for the empresa (`cache:gen:{empresa}:{area}`, areas: placas,
   regiões, users) into the request state.
2. Litestar's response cache builds the key with `tenant_cache_key` —
   `{empresa}:{generation}:{path}?{sorted query}` — and looks it up in `FailOpenRedisStore`.
3. A successful write runs `invalidate_areas` for the areas its path affects (`WRITE_AREAS`; an
   INCR per area, before the answer is sent): every old key of those areas is unreachable at once for
   every worker and replica, without a scan; the orphaned entries expire by their TTL. One placa
   (`placa:{id}:empresa:{empresaId}`) has its own version key, bumped when that placa changes, and
   the authenticated user's state is cached under the "users" area.
4. Identical misses are coalesced (one recomputation per process, and across processes with a short
   Redis lock), so the expiry of a hot key does not send N identical queries to MongoDB.
5. The middleware adds an ETag to the answer and turns a matching `If-None-Match` into a 304.

Fail-open: every Redis call goes through `RedisCircuit`. A failure (timeouts are short, see
`REDIS_TIMEOUT_SECONDS`) opens the circuit for a moment, during which the cache is skipped without
touching Redis, so an outage costs one timeout per process, not one per request. Reads then go to
MongoDB and writes still succeed; invalidations that could not reach Redis are retried until they do,
so nothing stale is served once Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from litestar import Request
from litestar.config.response_cache import ResponseCacheConfig, default_do_cache_predicate
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from redis.asyncio import Redis
from redis.exceptions import RedisError
from shared import metrics

from core_api.lib.listing import wanted_format

log = logging.getLogger(__name__)

T = TypeVar("T")

RESPONSE_CACHE_STORE = "response_cache"
BYPASS_PREFIX = "bypass:"
GENERATION_KEY = "cache:gen:{empresa}:{area}"
LOCK_KEY = "cache:lock:{key}"
PLACA_KEY = "placa:{placa_id}:empresa:{empresa_id}"
PLACAS_TTL = 600  # 10 minutes
REGIOES_TTL = 1800  # 30 minutes
PLACA_TTL = 600
LOCK_TTL_MS = 3000  # a recomputation longer than this lets a second one start
LOCK_WAIT_SECONDS = 1.0  # followers wait at most this long for the leader's result
REDIS_ERRORS = (RedisError, OSError, TimeoutError, asyncio.TimeoutError)

#: cached data is grouped in areas, each with its own generation per empresa
CACHE_AREAS = ("placas", "regioes", "users")
#: which areas a successful write under a path prefix makes stale (unknown prefixes: all of them)
WRITE_AREAS: dict[str, tuple[str, ...]] = {
    "/api/v1/placas": ("placas",),
    "/api/v1/regioes": ("regioes", "placas"),
    "/api/v1/alugueis": ("placas",),  # bookings change availability
    "/api/v1/pis": ("placas",),
    "/api/v1/contratos": (),
    "/api/v1/clientes": (),
    "/api/v1/users": ("users",),
    "/api/v1/empresa": ("users",),
}
#: the area of each cached GET route, by path prefix
READ_AREAS = {"/api/v1/placas": "placas", "/api/v1/regioes": "regioes"}

_STATE_GEN = "cache_generation"
_STATE_BYPASS = "cache_bypass"


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


class FailOpenRedisStore(RedisStore):
    """Litestar's RedisStore that never fails a request: Redis errors are misses and no-ops."""

    def __init__(self, redis: Redis, circuit: RedisCircuit, namespace: str = "LITESTAR_RESPONSE") -> None:
        super().__init__(redis=redis, namespace=namespace, handle_client_shutdown=False)
        self.circuit = circuit

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        if key.startswith(BYPASS_PREFIX):
            return None  # admin, disabled or Redis away: no lookup, and not counted as a miss
        value = await self.circuit.call(
            "http", "get", lambda: super(FailOpenRedisStore, self).get(key, renew_for), None
        )
        if value is None:
            metrics.cache_miss("http")
        else:
            metrics.cache_hit("http")
        return value

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await self.circuit.call(
            "http", "set", lambda: super(FailOpenRedisStore, self).set(key, value, expires_in), None
        )

    async def delete(self, key: str) -> None:
        await self.circuit.call("http", "delete", lambda: super(FailOpenRedisStore, self).delete(key), None)


class TenantCache:
    """Per-empresa, per-area generations, cache-aside with single-flight, and invalidation that is
    retried until Redis accepts it. One instance per app (in `app.state.cache`)."""

    def __init__(self, redis: Redis, circuit: RedisCircuit | None = None, enabled: bool = True) -> None:
        self.redis = redis
        self.enabled = enabled
        self.circuit = circuit or RedisCircuit()
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        #: empresa -> (version keys to bump, entry keys to delete) that Redis has not accepted yet
        self._pending: dict[str, tuple[set[str], set[str]]] = {}
        self._retry_task: asyncio.Task[None] | None = None

    # -- generations ------------------------------------------------------------------------------
    def owes_invalidation(self, empresa_id: str) -> bool:
        """True while an invalidation of this empresa has not reached Redis: skip its cache."""
        return empresa_id in self._pending

    async def generation(self, empresa_id: str, area: str) -> int | None:
        """The area's current generation for the empresa, or None: skip the cache (disabled, Redis
        unavailable, or an invalidation still owed)."""
        if not self.enabled or empresa_id in self._pending:
            return None
        sentinel = -1
        raw = await self.circuit.call(
            "http", "get", lambda: self.redis.get(area_key(empresa_id, area)), sentinel
        )
        if raw == sentinel:
            return None
        return int(raw or 0)

    async def invalidate_areas(self, empresa_id: str, areas: Iterable[str]) -> None:
        """Make every cached read of these areas of the empresa stale at once (O(1) per area)."""
        await self.invalidate(empresa_id, [area_key(empresa_id, a) for a in areas])

    async def invalidate_placa(self, empresa_id: str, placa_id: str) -> None:
        key = placa_key(placa_id, empresa_id)
        await self.invalidate(empresa_id, [version_key(key)], [key])

    async def invalidate(self, empresa_id: str, bump: Iterable[str], delete: Iterable[str] = ()) -> None:
        bump, delete = set(bump), set(delete)
        if not bump and not delete:
            return
        if not await self.circuit.call("http", "invalidate", lambda: self._invalidate(bump, delete), False):
            # Redis is away: entries cached before this write may still be there when it returns.
            # This process bypasses the empresa's cache and retries until Redis accepts it.
            owed = self._pending.setdefault(empresa_id, (set(), set()))
            owed[0].update(bump)
            owed[1].update(delete)
            self._ensure_retry_task()

    async def _invalidate(self, bump: Iterable[str], delete: Iterable[str]) -> bool:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in bump:
                pipe.incr(key)
            if delete:
                pipe.delete(*delete)
            await pipe.execute()
        return True

    def _ensure_retry_task(self) -> None:
        if self._retry_task is None or self._retry_task.done():
            self._retry_task = asyncio.get_running_loop().create_task(self._retry_invalidations())

    async def _retry_invalidations(self) -> None:
        while self._pending:
            await asyncio.sleep(self.circuit.cooldown)
            for empresa_id, (bump, delete) in list(self._pending.items()):
                try:
                    await self._invalidate(bump, delete)
                except REDIS_ERRORS:
                    break
                self._pending.pop(empresa_id, None)

    async def close(self) -> None:
        if self._retry_task is not None:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task

    # -- cache-aside ------------------------------------------------------------------------------
    async def get_or_compute(
        self,
        cache: str,
        empresa_id: str,
        key: str,
        version: str,
        ttl: int,
        compute: Callable[[], Awaitable[T]],
        dump: Callable[[T], bytes],
        load: Callable[[bytes], T],
    ) -> T:
        """Cache-aside with single-flight, checked against a version key (an area generation or the
        entry's own version).

        The entry is stored as `{version}\n{payload}` and the version is read (MGET, one round trip)
        *before* MongoDB: a reader that raced a write stores its value under the old version, which
        no later read accepts, so the classic cache-aside race cannot pin stale data.
        """
        if not self.enabled or self.owes_invalidation(empresa_id):
            return await compute()
        got = await self.circuit.call(cache, "get", lambda: self.redis.mget(key, version), None)
        if got is None:
            return await compute()  # Redis unavailable: fail open
        raw, current = got
        generation = int(current or 0)
        if (value := _current(raw, generation, load)) is not _MISSING:
            metrics.cache_hit(cache)
            return value  # type: ignore[return-value]
        metrics.cache_miss(cache)
        async with self.single_flight(key) as leader:
            if not leader:
                again = await self.circuit.call(cache, "get", lambda: self.redis.mget(key, version), None)
                if again is not None:
                    generation = int(again[1] or 0)
                    if (value := _current(again[0], generation, load)) is not _MISSING:
                        return value  # type: ignore[return-value]
            value = await compute()
            entry = str(generation).encode() + b"\n" + dump(value)
            await self.circuit.call(cache, "set", lambda: self.redis.set(key, entry, ex=ttl), None)
            return value

    @contextlib.asynccontextmanager
    async def single_flight(self, key: str) -> Any:
        """Yields True for the one caller that should compute `key`, False for callers that waited
        for it (they should re-read the cache first). Bounded: followers never wait more than
        LOCK_WAIT_SECONDS, and a lost lock expires after LOCK_TTL_MS."""
        existing = self._inflight.get(key)
        if existing is not None:
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(existing), LOCK_WAIT_SECONDS)
            yield False
            return
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        token = uuid.uuid4().hex
        lock_key = LOCK_KEY.format(key=key)
        try:
            got = await self.circuit.call(
                "lock", "set", lambda: self.redis.set(lock_key, token, nx=True, px=LOCK_TTL_MS), True
            )
            if not got:
                # another process computes it: wait (bounded) for its lock to go away
                deadline = time.monotonic() + LOCK_WAIT_SECONDS
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                    held = await self.circuit.call("lock", "get", lambda: self.redis.exists(lock_key), 0)
                    if not held:
                        break
                yield False
            else:
                try:
                    yield True
                finally:
                    await self.circuit.call("lock", "delete", lambda: self._release(lock_key, token), None)
        finally:
            self._inflight.pop(key, None)
            if not future.done():
                future.set_result(None)

    async def _release(self, lock_key: str, token: str) -> None:
        # delete only our own lock (a slow leader must not free a lock another process took since)
        current = await self.redis.get(lock_key)
        if current is not None and current == token.encode():
            await self.redis.delete(lock_key)


_MISSING = object()


def _current(raw: bytes | None, generation: int, load: Callable[[bytes], T]) -> T | object:
    if not raw:
        return _MISSING
    stored, _, payload = raw.partition(b"\n")
    if not stored.isdigit() or int(stored) != generation:
        return _MISSING
    return load(payload)


# -- response cache wiring --------------------------------------------------------------------------
def tenant_cache_key(request: Request[Any, Any, Any]) -> str:
    """Key of a cached response: empresa, generation, path and the full sorted query."""
    state = request.scope.get("state", {})
    if state.get(_STATE_BYPASS) or state.get(_STATE_GEN) is None:
        return f"{BYPASS_PREFIX}{uuid.uuid4().hex}"  # never looked up nor stored (`should_store`)
    user = request.scope.get("user")
    query = sorted(request.query_params.multi_items())
    return f"{user.empresa_id}:{state[_STATE_GEN]}:{request.url.path}?{urlencode(query)}"


def should_store(scope: HTTPScope, status_code: int) -> bool:
    state = scope.get("state", {})
    if state.get(_STATE_BYPASS) or state.get(_STATE_GEN) is None:
        return False
    return default_do_cache_predicate(scope, status_code)


def response_cache_config() -> ResponseCacheConfig:
    return ResponseCacheConfig(
        default_expiration=PLACAS_TTL,
        key_builder=tenant_cache_key,
        store=RESPONSE_CACHE_STORE,
        cache_response_filter=should_store,
    )


class TenantCacheMiddleware:
    """Prepares cached routes (generation or admin bypass), coalesces identical misses, adds
    ETag/Cache-Control and answers 304 to a matching If-None-Match."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        user = scope.get("user")
        empresa_id = getattr(user, "empresa_id", None)
        cache: TenantCache = scope["litestar_app"].state.cache
        if scope.get("method") not in ("GET", "HEAD"):
            if empresa_id is None:
                await self.app(scope, receive, send)
            else:
                areas = _by_prefix(scope["path"], WRITE_AREAS, CACHE_AREAS)
                await self._invalidating(scope, receive, send, cache, empresa_id, areas)
            return
        if not getattr(handler, "cache", False):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if wanted_format(Request(scope)) == "csv":
            # a streamed CSV export is neither cached nor buffered for an ETag
            state[_STATE_BYPASS] = True
            await self.app(scope, receive, send)
            return
        if empresa_id is None or getattr(user, "role", None) == "admin":
            state[_STATE_BYPASS] = True
            await self._with_etag(scope, receive, send, private_cache="no-store")
            return
        state[_STATE_GEN] = await cache.generation(empresa_id, _by_prefix(scope["path"], READ_AREAS, "all"))
        if state[_STATE_GEN] is None:
            await self._with_etag(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope)
        key = tenant_cache_key(request)
        async with cache.single_flight(f"http:{key}"):
            # the leader computes and stores; followers run after it and hit the stored entry
            await self._with_etag(scope, receive, send)

    async def _invalidating(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        cache: TenantCache,
        empresa_id: str,
        areas: tuple[str, ...],
    ) -> None:
        """Every successful write of an empresa invalidates its cached reads — before the client
        gets the answer, so a read that follows the write never sees the old data."""

        async def send_after_invalidation(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                await cache.invalidate_areas(empresa_id, areas)
            await send(message)

        await self.app(scope, receive, send_after_invalidation)

    async def _with_etag(self, scope: Scope, receive: Receive, send: Send, private_cache: str = "") -> None:
        start: Message | None = None
        body = bytearray()

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                assert start is not None
                await self._send_with_etag(scope, send, start, bytes(body), private_cache)
                return
            await send(message)

        await self.app(scope, receive, buffered)

    @staticmethod
    async def _send_with_etag(
        scope: Scope, send: Callable[[Any], Awaitable[None]], start: Any, body: bytes, private_cache: str
    ) -> None:
        status = start["status"]
        headers = [
            (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"etag", b"cache-control")
        ]
        if status != 200:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        etag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
        headers.append((b"etag", etag.encode()))
        headers.append((b"cache-control", (private_cache or "private, no-cache").encode()))
        if_none_match = dict(scope.get("headers", [])).get(b"if-none-match", b"").decode("latin-1")
        if etag in [t.strip() for t in if_none_match.split(",")] or if_none_match.strip() == "*":
            headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
            await send({**start, "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def placa_key(placa_id: str, empresa_id: str) -> str:
    return PLACA_KEY.format(placa_id=placa_id, empresa_id=empresa_id)


def area_key(empresa_id: str, area: str) -> str:
    return GENERATION_KEY.format(empresa=empresa_id, area=area)


def version_key(entry_key: str) -> str:
    """The version counter of one cache-aside entry (bumped when that entry's source changes)."""
    return f"{entry_key}:v"


def _by_prefix(path: str, table: dict[str, Any], default: Any) -> Any:
    for prefix, value in table.items():
        if path == prefix or path.startswith(prefix + "/"):
            return value
    return default


def json_dump(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()


def get_cache(state: State) -> TenantCache:
    return state.cache
