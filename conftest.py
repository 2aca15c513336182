"""Real servers for the tests of the workspace, started only when a test needs them.

Redis and FerretDB start on free ports in a temporary directory the first time a test asks for
`redis_url` / `mongodb_url` (session-scoped fixtures) and stop at the end of the session — so the
fast lane (`make test-fast`, tests marked `fast`) starts no server at all. TEST_REDIS_URL /
TEST_MONGODB_URL point the tests at running servers instead.

Under pytest-xdist every worker is its own session: it starts its own Redis and FerretDB (and the
contract tests' gateway stack), so parallel workers share no server, database or stream. Within a
worker, tests isolate themselves by database names and key prefixes (`unique_name`), so no test
depends on another or on a running `make up`.

Tests under a `unit/` directory are marked `fast` automatically; a `fast` test that asks for a
server fixture is a usage error (the fast lane must stay server-free).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.servers import Server, start_ferretdb, start_rabbitmq, start_redis

# settings default to production (and refuse the development secrets there): every settings object
# and service process of the test run is a test one unless a test says otherwise
os.environ.setdefault("ENVIRONMENT", "test")

#: fixtures that start (or need) a server; a `fast` test may use none of them
SERVER_FIXTURES = frozenset({"redis_url", "mongodb_url", "rabbitmq_url", "stack", "gateway_factory"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wrong = []
    for item in items:
        if "unit" in item.path.parts:
            item.add_marker(pytest.mark.fast)
        if item.get_closest_marker("fast") is not None:
            used = SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if used:
                wrong.append(f"{item.nodeid} uses {', '.join(sorted(used))}")
    if wrong:
        raise pytest.UsageError("tests marked `fast` must not need servers:\n  " + "\n  ".join(wrong))


@pytest.fixture(scope="session")
def test_tmp() -> Iterator[Path]:
    """A temporary directory for this session (this xdist worker), removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="outdoor-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _serve(start, workdir: Path) -> Iterator[str]:
    srv: Server = start(workdir)
    try:
        yield srv.url
    finally:
        if srv.proc.poll() is not None:  # it died during the session: show why
            print(f"\n--- {srv.name} exited with {srv.proc.returncode}; log tail ---\n{srv.log_tail()}")
        srv.stop()


@pytest.fixture(scope="session")
def redis_url(test_tmp: Path) -> Iterator[str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
    else:
        yield from _serve(start_redis, test_tmp / "redis")


@pytest.fixture(scope="session")
def rabbitmq_url(test_tmp: Path) -> Iterator[str]:
    """A RabbitMQ node of this session (Debian's rabbitmq-server, own node name, port and data)."""
    if url := os.environ.get("TEST_RABBITMQ_URL"):
        yield url
    else:
        yield from _serve(start_rabbitmq, test_tmp / "rabbitmq")


@pytest.fixture(scope="session")
def mongodb_url(test_tmp: Path) -> Iterator[str]:
    if url := os.environ.get("TEST_MONGODB_URL"):
        yield url
    else:
        yield from _serve(start_ferretdb, test_tmp / "ferretdb")


@pytest.fixture
def unique_name() -> str:
    """A short unique suffix for database names, keys and streams of one test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def workdir(test_tmp: Path, unique_name: str) -> Iterator[Path]:
    path = test_tmp / f"w-{unique_name}"
    path.mkdir()
    yield path
