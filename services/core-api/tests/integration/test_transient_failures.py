"""A database that is busy for a moment is not a bug: retried where safe, else 503 — never 500 (issue 12).

FerretDB's SQLite backend answers `database is locked (SQLITE_BUSY)` (an InternalError) to a writer
that waited past its busy timeout for SQLite's write lock — what a saturated host produced in the
soak. Here a FerretDB of its own has a 200 ms busy timeout, and the test takes SQLite's write lock
itself (`BEGIN EXCLUSIVE` on the database file), so the condition is real and on cue.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_api.domain.clientes.models import Cliente
from devstack.polling import wait_until_sync
from devstack.servers import Server, start_ferretdb


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
    assert body["statusCode"] == 503 and body["extra"] == {"reason": "transient"}
    assert "Traceback" not in r.text and "SQLITE" not in r.text
    assert listed.status_code == 200
    assert _stored(in_app_loop, "Locked Out") == 0
    # what the 503 asks for works: the same request, once the lock is gone
    again = await core_client.post("/api/v1/clientes", json={"nome": "Locked Out"}, headers=t.user_headers)
    assert again.status_code == 201, again.text
    assert _stored(in_app_loop, "Locked Out") == 1
