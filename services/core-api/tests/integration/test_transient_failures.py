"""A database that is busy for a moment is not a bug: retried where safe, else 503 — never 500 (issue 12).

FerretDB's SQLite backend answers `database is locked (SQLITE_BUSY)` (an InternalError) to a writer
that waited past its busy timeout for SQLite's write lock — what a saturated host produced in the
soak. Here a FerretDB of its own has a 200 ms busy timeout, and the test takes SQLite's write lock
itself (`BEGIN EXCLUSIVE` on the database file), so the condition is real and on cue.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_api.domain.clientes.models import Cliente
from core_api.lib.idempotency import COLLECTION
from devstack.polling import wait_until_sync
from devstack.servers import Server, start_ferretdb
from pymongo import MongoClient


@pytest.fixture(scope="module")
def busy_ferretdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_ferretdb(tmp_path_factory.mktemp("busy-ferretdb"), busy_timeout_ms=200)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def mongodb_url(busy_ferretdb: Server) -> str:
    """core-api of these tests talks to the FerretDB with the short busy timeout."""
    return busy_ferretdb.url


class WriteLock:
    """SQLite's write lock on one FerretDB database, held by the test (FerretDB's writers wait)."""

    def __init__(self, server: Server, database: str) -> None:
        self.path = server.workdir / "sqlite" / f"{database}.sqlite"
        self.log = server.log_path
        self.conn: sqlite3.Connection | None = None

    def take(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN EXCLUSIVE")

    def give_back(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None

    def busy_answers(self) -> int:
        """How many SQLITE_BUSY answers FerretDB has sent so far (it logs failed answers)."""
        return Path(self.log).read_text(errors="replace").count("SQLITE_BUSY")


def _stored(in_app_loop, nome: str) -> int:  # noqa: ANN001
    async def count() -> int:
        return await Cliente.get_pymongo_collection().count_documents({"nome": nome})

    return in_app_loop(count)


async def test_a_write_refused_once_with_sqlite_busy_is_retried_and_applied_once(
    core_client, make_tenant, core_settings, busy_ferretdb, in_app_loop
) -> None:  # noqa: ANN001
    t = await make_tenant()
    lock = WriteLock(busy_ferretdb, core_settings.mongodb_db)
    before = lock.busy_answers()
    lock.take()

    def release_after_the_first_refusal() -> None:
        try:
            wait_until_sync(lambda: lock.busy_answers() > before, timeout=120, interval=0.01)
        finally:
            lock.give_back()

    releaser = threading.Thread(target=release_after_the_first_refusal)
    releaser.start()
    try:
        r = await core_client.post("/api/v1/clientes", json={"nome": "Retried Once"}, headers=t.user_headers)
    finally:
        releaser.join()
        lock.give_back()
    assert lock.busy_answers() > before  # FerretDB did refuse a write of this request
    assert r.status_code == 201, r.text
    assert _stored(in_app_loop, "Retried Once") == 1


async def test_a_write_that_stays_locked_is_503_with_retry_after_not_500(
    core_client, make_tenant, core_settings, busy_ferretdb, in_app_loop
) -> None:  # noqa: ANN001
    t = await make_tenant()
    lock = WriteLock(busy_ferretdb, core_settings.mongodb_db)
    lock.take()
    try:
        r = await core_client.post("/api/v1/clientes", json={"nome": "Locked Out"}, headers=t.user_headers)
        # reads are not blocked by a writer (SQLite WAL): the API keeps answering them
        listed = await core_client.get("/api/v1/clientes", headers=t.user_headers)
    finally:
        lock.give_back()
    assert r.status_code == 503, r.text
    assert int(r.headers["retry-after"]) >= 1
    body = r.json()
    assert body["statusCode"] == 503 and body["extra"]["reason"] == "transient"
    assert "Traceback" not in r.text and "SQLITE" not in r.text
    assert listed.status_code == 200
    assert _stored(in_app_loop, "Locked Out") == 0
    # what the 503 asks for works: the same request, once the lock is gone
    again = await core_client.post("/api/v1/clientes", json={"nome": "Locked Out"}, headers=t.user_headers)
    assert again.status_code == 201, again.text
    assert _stored(in_app_loop, "Locked Out") == 1


async def test_a_request_that_outlived_its_idempotency_lease_still_gets_its_answer(
    core_client, make_tenant, core_settings, busy_ferretdb, in_app_loop
) -> None:  # noqa: ANN001
    """The database stalls (SIGSTOP, 11 s) once the request holds its Idempotency-Key's lease: the
    lease runs out (10 s) before the answer can be kept. The cliente was saved: the client gets the
    201 (not a 503 for a saved request, nor a bare 500), and the answer is simply not kept."""
    t = await make_tenant()
    watcher = MongoClient(busy_ferretdb.url)
    db = watcher[core_settings.mongodb_db]

    answered = threading.Event()

    def stall_once_the_lease_is_taken() -> None:
        leased = {"_id": {"$regex": "^idempotency:"}}
        while db["leases"].find_one(leased) is None:
            if answered.is_set():
                return  # the request was faster than this watcher: no stall this time
            time.sleep(0.002)
        os.kill(busy_ferretdb.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(11)  # the stall itself (longer than the lease's 10 s deadline)
        finally:
            os.kill(busy_ferretdb.proc.pid, signal.SIGCONT)

    try:
        # the stall must begin before the request is over: on an idle machine the request can win
        # the race, so it is tried again (a new key, a new cliente) until the stall caught it
        for attempt in range(8):
            nome = f"Lenta {attempt}"
            answered.clear()
            staller = threading.Thread(target=stall_once_the_lease_is_taken)
            staller.start()
            started = time.monotonic()
            try:
                r = await core_client.post(
                    "/api/v1/clientes",
                    json={"nome": nome},
                    headers={**t.user_headers, "Idempotency-Key": str(uuid.uuid4())},
                )
            finally:
                answered.set()
                staller.join()
            db["leases"].delete_many({"_id": {"$regex": "^idempotency:"}})
            if r.status_code == 503:  # the stall hit the write itself: an honest 503 (never a 500); again
                assert r.json()["extra"]["reason"] == "transient", r.text
                db[COLLECTION].delete_many({})
                continue
            assert r.status_code == 201, r.text
            assert _stored(in_app_loop, nome) == 1
            # caught: the request outlived the stall and its lease ran out (the answer not kept); on
            # a busy machine the stall can also land before the lease is at risk: then try again
            if time.monotonic() - started >= 10 and db[COLLECTION].count_documents({}) == 0:
                break
            db[COLLECTION].delete_many({})
        else:
            raise AssertionError("the stall never caught the request in flight")
        assert db[COLLECTION].count_documents({}) == 0  # the lease ran out: the answer was not kept
    finally:
        watcher.close()


def test_a_worker_started_before_mongodb_answers_503_not_500(redis_url: str, workdir: Path) -> None:
    """Under load a worker may start serving before its MongoDB initialisation finished (the
    lifespan waits 5 s, then starts, readiness 503): its requests were 500s (Beanie's
    CollectionWasNotInitialized) in the soak; they are a 503 with Retry-After. A process of its own:
    Beanie's models are process-wide."""
    import httpx
    from core_api.settings import CoreApiSettings
    from devstack.servers import free_port, start_service
    from shared.auth import issue_token

    port = free_port()
    env = {
        "ENVIRONMENT": "test",
        "MONGODB_URL": f"mongodb://127.0.0.1:{free_port()}/",  # nothing listens there
        "MONGODB_TIMEOUT_MS": "200",
        "REDIS_URL": redis_url,
        "LOG_JSON": "false",
        "CORE_API_PORT": str(port),
        "CORE_API_WORKERS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
    }
    srv = start_service("core-api", "core_api", port, env, workdir / "core-api")
    try:
        token, _ = issue_token(
            CoreApiSettings(environment="test"),
            user_id="65a000000000000000000001",
            empresa_id="65a000000000000000000002",
            role="user",
            typ="access",
        )
        r = httpx.get(f"{srv.url}/api/v1/placas", headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert httpx.get(f"{srv.url}/api/v1/health/ready", timeout=60).status_code == 503
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] and r.json()["extra"]["reason"] == "transient"
    finally:
        srv.stop()
