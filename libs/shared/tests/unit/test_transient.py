"""Which database/Redis failures are transient, and the GET retry that hides them (issue 12)."""

from __future__ import annotations

from typing import Any

from beanie.exceptions import CollectionWasNotInitialized
from litestar import Litestar, get, post
from litestar.testing import TestClient
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    DuplicateKeyError,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from shared.errors import internal_error_handler
from shared.transient import TransientRetryMiddleware, is_transient, transient_error_handler

BUSY = "[msg_insert.go:168 handler.(*Handler).MsgInsert] database is locked (5) (SQLITE_BUSY)"


def test_busy_sqlite_and_lost_connections_are_transient() -> None:
    assert is_transient(OperationFailure(BUSY, code=1, details={"errmsg": BUSY, "code": 1}))
    assert is_transient(AutoReconnect("connection closed"))
    assert is_transient(NetworkTimeout("timed out"))
    assert is_transient(ServerSelectionTimeoutError("no servers"))
    assert is_transient(RedisConnectionError("Connection refused"))
    assert is_transient(OperationFailure("not primary", code=10107))
    assert is_transient(BulkWriteError({"writeErrors": [{"index": 0, "code": 1, "errmsg": BUSY}]}))
    assert is_transient(CollectionWasNotInitialized())  # a worker still initialising MongoDB


def test_bugs_and_conflicts_are_not_transient() -> None:
    assert not is_transient(DuplicateKeyError("E11000 duplicate key", code=11000))
    assert not is_transient(OperationFailure("unknown operator: $foo", code=2))
    assert not is_transient(OperationFailure("UNIQUE constraint failed", code=1))
    assert not is_transient(BulkWriteError({"writeErrors": [{"index": 0, "code": 11000, "errmsg": "dup"}]}))
    assert not is_transient(ResponseError("WRONGTYPE"))
    assert not is_transient(ValueError("x"))


def _app(fail_times: int) -> tuple[Litestar, dict[str, int]]:
    calls = {"GET": 0, "POST": 0}

    def flaky(method: str, exc: Exception) -> dict[str, Any]:
        calls[method] += 1
        if calls[method] <= fail_times:
            raise exc
        return {"calls": calls[method]}

    @get("/read")
    async def read() -> dict[str, Any]:
        return flaky("GET", AutoReconnect("connection closed"))

    @get("/bug")
    async def bug() -> dict[str, Any]:
        return flaky("GET", OperationFailure("unknown operator: $foo", code=2))

    @post("/write")
    async def write() -> dict[str, Any]:
        return flaky("POST", OperationFailure(BUSY, code=1))

    app = Litestar(
        [read, write, bug],
        middleware=[TransientRetryMiddleware],
        exception_handlers={
            OperationFailure: transient_error_handler,
            AutoReconnect: transient_error_handler,
            Exception: internal_error_handler,
        },
        debug=False,
    )
    return app, calls


def test_a_get_that_failed_transiently_runs_again() -> None:
    app, calls = _app(fail_times=2)
    with TestClient(app) as client:
        r = client.get("/read")
    assert r.status_code == 200 and r.json() == {"calls": 3}


def test_a_get_failing_every_time_is_503_with_retry_after() -> None:
    app, calls = _app(fail_times=100)
    with TestClient(app) as client:
        r = client.get("/read")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "2"
    assert r.json()["extra"]["reason"] == "transient"
    assert 1 < calls["GET"] < 10  # bounded


def test_a_post_is_not_rerun_by_the_middleware_and_a_bug_stays_500() -> None:
    app, calls = _app(fail_times=1)
    with TestClient(app) as client:
        assert client.post("/write").status_code == 503
        assert calls["POST"] == 1
        assert client.get("/bug").status_code == 500
        assert calls["GET"] == 1
