"""Transient database and Redis failures: told apart from bugs, retried where that is safe, else 503.

A failure is *transient* when the same request can succeed moments later unchanged: the server
was unreachable or too slow (pymongo's `ConnectionFailure` family: `AutoReconnect`,
`NetworkTimeout`, `ServerSelectionTimeoutError`; redis-py's `ConnectionError`/`TimeoutError`), or
FerretDB's SQLite backend gave up waiting for its write lock (`database is locked (SQLITE_BUSY)`,
an `InternalError` (code 1) once its 10 s busy timeout has passed — a saturated host, not a bug),
or the server labelled the error retryable itself, or a worker that started before MongoDB answered
has not initialised its collections yet (Beanie's `CollectionWasNotInitialized`: the soak's 500s on
a restarted worker under load).

Two consequences, both here so every caller agrees on them:

- `retrying(operation)`: an operation that is safe to repeat (a read; an insert whose key makes a
  repeat collide; a compare-and-set write) is tried again a few times, with full-jitter backoff,
  before the failure is reported. A few hundred milliseconds cover a lock held by a burst of writers
  or a reconnecting pool; a longer outage is not waited out here (the client's retry is better).
- `transient_error_handler`: whatever still fails transiently is answered 503 with `Retry-After`
  in the one error shape — never a 500, which means "a bug" to clients and to the alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from beanie.exceptions import CollectionWasNotInitialized
from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.errors import error_response, internal_error_handler

log = logging.getLogger("shared.transient")

T = TypeVar("T")

#: what FerretDB's SQLite backend says when its write lock stayed taken past the busy timeout
_LOCKED_MARKERS = ("SQLITE_BUSY", "SQLITE_LOCKED", "database is locked", "database table is locked")
#: server error codes MongoDB documents as retryable (its own retryable-reads/writes list)
_RETRYABLE_CODES = frozenset({6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})
#: tries of one operation (the first included), and the backoff's base and cap in seconds
ATTEMPTS = 4
BASE_DELAY = 0.05
MAX_DELAY = 1.0
#: the `Retry-After` a client gets with the 503
RETRY_AFTER_SECONDS = 2


def _locked(message: str) -> bool:
    return any(marker in message for marker in _LOCKED_MARKERS)


def is_transient(exc: BaseException) -> bool:
    """True when the failure says "try again shortly", not "this request or the code is wrong"."""
    if isinstance(exc, ConnectionFailure | RedisConnectionError | RedisTimeoutError | BusyLoadingError):
        return True
    if isinstance(exc, CollectionWasNotInitialized):
        return True  # a worker that started before MongoDB answered, still initialising it
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", []) if exc.details else []
        return bool(errors) and all(_locked(str(e.get("errmsg", ""))) for e in errors)
    if isinstance(exc, OperationFailure):
        if exc.has_error_label("RetryableWriteError") or exc.has_error_label("TransientTransactionError"):
            return True
        return exc.code in _RETRYABLE_CODES or _locked(str(exc))
    return False


def backoff(attempt: int) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (attempt 0 is the first retry)."""
    return random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**attempt))  # noqa: S311 - jitter, not security


async def retrying(
    operation: Callable[[], Awaitable[T]],
    *,
    attempts: int = ATTEMPTS,
    what: str = "database operation",
    on_retry: Callable[[BaseException], Awaitable[None]] | None = None,
) -> T:
    """Run `operation`; on a transient failure run it again (at most `attempts` tries in all).

    Only for operations that are safe to repeat. `on_retry` runs before each repeat (e.g. to find
    out whether an ambiguous first try was applied after all). The last failure is raised as is.
    """
    for attempt in range(attempts):
        try:
            return await operation()
        except PyMongoError as exc:
            if attempt + 1 >= attempts or not is_transient(exc):
                raise
            log.info("transient failure of %s (try %d of %d): %s", what, attempt + 1, attempts, _short(exc))
            await asyncio.sleep(backoff(attempt))
            if on_retry is not None:
                await on_retry(exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def transient_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """A database/Redis failure that is transient → 503 + Retry-After; any other one is a bug → 500."""
    if not is_transient(exc):
        return internal_error_handler(request, exc)
    log.warning("transient failure during %s %s: %s", request.method, request.url.path, _short(exc))
    request.scope.setdefault("state", {})[TRANSIENT_FAILURE] = True
    return error_response(
        HTTP_503_SERVICE_UNAVAILABLE,
        "the database is busy or unavailable; retry shortly",
        extra={"reason": "transient", "retryAfter": RETRY_AFTER_SECONDS},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


#: methods whose request may simply be run again: they change nothing
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})


#: set in the request's scope state by `transient_error_handler` (the middleware below reads it)
TRANSIENT_FAILURE = "transient_failure"


class TransientRetryMiddleware:
    """Runs a GET/HEAD again when it failed transiently, instead of sending the 503.

    Reads are the bulk of the traffic and always safe to repeat, and many of them go to MongoDB
    through Beanie queries outside the repository: running the whole request again (its handler
    and dependencies) covers all of them in one place. Litestar turns the exception into a response
    inside the route (`transient_error_handler`, which marks the scope); this middleware holds
    back that 503 and tries again, a bounded number of times with jittered backoff, and lets the
    last one through. Writes are retried where they are made (`retrying` in the repository and the
    leases), only where a repeat cannot apply them twice.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") not in IDEMPOTENT_METHODS:
            await self.app(scope, receive, send)
            return
        for attempt in range(ATTEMPTS):
            if await self._attempt(scope, receive if attempt == 0 else _empty_body(receive), send, attempt):
                return
            log.info(
                "retrying %s %s after a transient failure (try %d of %d)",
                scope["method"],
                scope.get("path"),
                attempt + 1,
                ATTEMPTS,
            )
            await asyncio.sleep(backoff(attempt))

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, attempt: int) -> bool:
        """One run of the request; False when its answer was a transient 503 held back."""
        last = attempt + 1 >= ATTEMPTS
        state = scope.setdefault("state", {})
        state.pop(TRANSIENT_FAILURE, None)
        held_back = False

        async def guarded(message: Message) -> None:
            nonlocal held_back
            if message["type"] == "http.response.start" and state.get(TRANSIENT_FAILURE) and not last:
                held_back = True
            if not held_back:
                await send(message)

        await self.app(scope, receive, guarded)
        return not held_back


def _empty_body(receive: Receive) -> Receive:
    """A GET has no body: a repeat gets an empty one again, then the client's own messages."""
    done = False

    async def _receive() -> ReceiveMessage:
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return _receive


class CancelledRequestMiddleware:
    """A request the server cancels before answering is a 503 with Retry-After, not uvicorn's 500.

    A SIGTERMed `serve` lets in-flight requests finish for `GRACEFUL_SHUTDOWN_SECONDS`, then cancels
    the rest; uvicorn answers a cancelled request that had not started its response with a bare
    500 (in the soak: ~200 of them at each parent restart on a saturated host). Nothing was wrong
    with those requests: the process was going away. Answered here in the error shape instead,
    then the cancellation goes on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except asyncio.CancelledError:
            if not started:
                body = b'{"statusCode":503,"detail":"the server is restarting; retry shortly","extra":{"reason":"shutdown","retryAfter":null}}'
                with contextlib.suppress(Exception):
                    await send(
                        {
                            "type": "http.response.start",
                            "status": HTTP_503_SERVICE_UNAVAILABLE,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body, "more_body": False})
            raise
