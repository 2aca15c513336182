"""`Idempotency-Key` on every POST that creates or acts: a client's retry never creates twice.

One middleware, for every POST route (except the token routes, below):

- The key (1-255 visible ASCII characters) is scoped to the caller's empresa (`public` for the
  unauthenticated `POST /auth/register`), so tenants never see each other's answers.
- The first request with a key runs, and its answer (status, body and the headers that describe
  it) is stored with a fingerprint of the request (method, path, query, body) for `KEEP`.
  A later request with the same key and the same fingerprint gets that answer again, marked
  `Idempotent-Replayed: true`, without running anything; with another fingerprint it is a 422.
- Concurrent requests with one key run once: the request holds the key's lease
  (`shared.atomic`, the same one-winner primitive as every write), and a duplicate waits for it
  (up to `WAIT` seconds) and then replays the stored answer; a duplicate still waiting after that
  gets 409 `in progress`. The lease is renewed while the first request runs, so a slow request
  keeps it, and a dead process stops renewing it: a retry runs again at most ~15 s later.
- 5xx answers are not stored (the retry should run again), nor are 2xx/4xx answers of a request
  whose lease was lost meanwhile.
- A process killed after saving but before keeping the answer: documents created under a key get
  `_id`s derived from it (`repository.new_id`), so the retry (the gateway replays a POST that
  carries a key) collides with what the first run saved and answers with it — one record.
- Expiry without TTL indexes: a record past `keep_until` is treated as absent (and replaced) when
  its key comes again, and `prune()` (run by the periodic sweep) deletes the old ones.

`POST /auth/login` and `POST /auth/refresh` are excluded: they create nothing, and replaying a
token answer to whoever repeats a key is a risk a retry does not need.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from functools import partial
from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.openapi.spec import Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from pymongo.errors import PyMongoError
from shared.atomic import Lease, LeaseLost
from shared.errors import error_responses
from shared.transient import retrying

from core_api.lib.documents import utcnow
from core_api.lib.errors import ConflictException, conflict, invalid, item
from core_api.lib.repository import holding, idempotency_scope

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
COLLECTION = "idempotency_keys"
#: how long an answer is kept for replay
KEEP = timedelta(hours=24)
#: how long a concurrent duplicate waits for the first request before 409 "in progress"
WAIT = 30.0
EXCLUDED_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/refresh"})
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
#: response headers that belong to the request, not to its outcome: never replayed
_NOT_REPLAYED = {b"date", b"x-request-id", b"content-length", b"set-cookie", b"server"}


def applies(scope: Scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path") not in EXCLUDED_PATHS


class IdempotencyMiddleware:
    """See the module doc. Runs after authentication (it needs the caller's empresa)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not applies(scope):
            await self.app(scope, receive, send)
            return
        raw_key = dict(scope["headers"]).get(HEADER.lower().encode())
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _KEY_PATTERN.match(key):
            raise invalid(
                f"{HEADER} must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
                HEADER,
                "header",
            )
        body = await _read_body(receive)
        tenant = getattr(scope.get("user"), "empresa_id", None) or "public"
        record_id = f"{tenant}:{hashlib.sha256(key.encode()).hexdigest()}"
        fingerprint = hashlib.sha256(
            b"\0".join(
                [scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body]
            )
        ).hexdigest()
        db = scope["litestar_app"].state.db
        records = db[COLLECTION]
        try:
            async with holding(
                db, f"idempotency:{record_id}", "this Idempotency-Key", wait=WAIT, renew=True
            ) as lease:
                stored = await records.find_one({"_id": record_id})
                #: what the ids of documents created under the key derive from (`new_id`)
                id_seed = record_id
                if stored is not None and stored["keep_until"] <= utcnow():
                    await records.delete_one({"_id": record_id})
                    # a new use of an expired key creates new documents, not its old ones
                    id_seed = f"{record_id}|{stored['created_at'].isoformat()}"
                    stored = None
                if stored is not None:
                    if stored["fingerprint"] != fingerprint:
                        raise _reused(key)
                    await _replay(stored, send)
                    return
                sent: list[Message] = []

                async def capture(message: Message) -> None:
                    sent.append(message)

                # documents created under the key get ids derived from it (`repository.new_id`):
                # a run after one that died before keeping its answer finds what that one saved
                token = idempotency_scope.set((id_seed, {}))
                try:
                    await self.app(scope, _replaying(body, receive), capture)
                finally:
                    idempotency_scope.reset(token)
                start = next((m for m in sent if m["type"] == "http.response.start"), None)
                if start is not None and start["status"] < 500 and not lease.released:
                    await _keep(records, lease, record_id, fingerprint, start, sent, scope["path"])
                for message in sent:
                    await send(message)
        except ConflictException as exc:
            if isinstance(exc.extra, dict) and exc.extra.get("reason") == "busy":
                raise conflict(
                    f"a request with this {HEADER} is still in progress; retry later to get its answer",
                    "in_progress",
                    item("idempotencyKey", field=HEADER),
                ) from None
            raise


async def _keep(
    records: Any,
    lease: Lease,
    record_id: str,
    fingerprint: str,
    start: Any,
    sent: list[Message],
    path: str,
) -> None:
    """Keep the answer for replay — unless that cannot be done safely now; the answer is sent anyway.

    The request has run: its answer is true, whatever happens here. A lease that ran out (a request
    slower than the lease on a saturated host) means a repeat may be running the key already, so its
    answer is not kept (the repeat's will be; created documents are found again by their ids); a
    database still failing after the retries only costs the replay. Raising here instead would turn
    a request that succeeded into an error for its client — and, the response having been built
    already, into a bare 500 (Litestar refuses to handle an exception after a response started).
    """
    try:
        lease.check()
        now = utcnow()
        record = {
            "_id": record_id,
            "fingerprint": fingerprint,
            "status": start["status"],
            # FerretDB v1 stores no nested arrays: one subdocument per header
            "headers": [
                {"name": k.decode("latin-1"), "value": v.decode("latin-1")}
                for k, v in start.get("headers", [])
                if k.lower() not in _NOT_REPLAYED
            ],
            "body": b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
            "path": path,
            "created_at": now,
            "keep_until": now + KEEP,
        }
        await retrying(partial(records.insert_one, record), what="keeping an idempotent answer")
    except (LeaseLost, PyMongoError) as exc:  # DuplicateKeyError: a repeat kept its answer first
        log.warning("the answer of %s %s was sent but not kept for replay: %s", HEADER, record_id, exc)


def _reused(key: str) -> HTTPException:
    return HTTPException(
        status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        detail=f"this {HEADER} was already used for a different request (method, path or body); use a new key",
        extra={"header": HEADER, "reason": "key_reused"},
    )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body we already read, then the client's own messages."""
    done = False

    async def _receive() -> ReceiveMessage:
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return _receive


async def _replay(stored: dict[str, Any], send: Send) -> None:
    body = bytes(stored["body"])
    headers = [(h["name"].encode("latin-1"), h["value"].encode("latin-1")) for h in stored["headers"]]
    headers += [(b"content-length", str(len(body)).encode()), (REPLAYED.lower().encode(), b"true")]
    await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def prune(db: Any) -> int:
    """Delete answers kept past `keep_until` (FerretDB has no TTL indexes)."""
    result = await db[COLLECTION].delete_many({"keep_until": {"$lte": utcnow()}})
    return result.deleted_count


# -- OpenAPI ----------------------------------------------------------------------------------------
IDEMPOTENCY_PARAMETER = Parameter(
    name=HEADER,
    param_in="header",
    required=False,
    description=(
        "Makes a retry safe: the first request with this key runs, and a request with the same key "
        f"(within {int(KEEP.total_seconds() // 3600)} h, same empresa) gets the same answer again "
        f"without running, marked `{REPLAYED}: true`. The same key with a different method, path or "
        "body is a 422; while the first request with the key is still running, a duplicate waits for "
        f"its answer (up to {int(WAIT)} s, then 409 with `extra.reason` `in_progress`). "
        "5xx answers are not kept. Use a new random key (e.g. a UUID) per intended operation."
    ),
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255),
)


def _with_idempotency_key(base: type[Operation]) -> type[Operation]:
    def __init__(self: Operation, *args: Any, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
        params = list(self.parameters or [])
        if not any(getattr(p, "name", None) == HEADER for p in params):
            params.append(IDEMPOTENCY_PARAMETER)
        self.parameters = params

    return type(f"Idempotent{base.__name__}", (base,), {"__init__": __init__})


def document_idempotency_key(app: Litestar) -> None:
    """Declare the header on every POST operation the middleware serves (OpenAPI only); wraps
    whatever operation class a handler already uses, so it composes with other OpenAPI helpers."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "POST" in getattr(handler, "http_methods", ()) and route.path not in EXCLUDED_PATHS:
                handler.operation_class = _with_idempotency_key(handler.operation_class)
                handler.responses = {
                    **error_responses(
                        422,
                        d422="this Idempotency-Key was already used for a different request; use a new key",
                    ),
                    **(handler.responses or {}),
                }
