"""Session-wide real servers for every test of the workspace.

Redis and FerretDB are started once per pytest session on free ports in a temporary directory and
stopped at the end (unless TEST_REDIS_URL / TEST_MONGODB_URL point at running ones). Tests get their
URLs from the `redis_url` / `mongodb_url` fixtures and isolate themselves by database name and keys,
so no test depends on another or on a running `make up`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.servers import Server, start_ferretdb, start_redis

_servers: list[Server] = []
_tmp: Path | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _tmp
    # settings default to production (and refuse the development secrets there): every settings object
    # and service process of the test run is a test one unless a test says otherwise
    os.environ.setdefault("ENVIRONMENT", "test")
    _tmp = Path(tempfile.mkdtemp(prefix="outdoor-tests-"))
    if not os.environ.get("TEST_REDIS_URL"):
        srv = start_redis(_tmp / "redis")
        _servers.append(srv)
        os.environ["TEST_REDIS_URL"] = srv.url
    if not os.environ.get("TEST_MONGODB_URL"):
        srv = start_ferretdb(_tmp / "ferretdb")
        _servers.append(srv)
        os.environ["TEST_MONGODB_URL"] = srv.url
    os.environ["TEST_TMP"] = str(_tmp)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for srv in reversed(_servers):
        if exitstatus not in (0, 5) and srv.proc.poll() is not None:
            print(f"\n--- {srv.name} log tail ---\n{srv.log_tail()}")
        srv.stop()
    if _tmp is not None:
        shutil.rmtree(_tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ["TEST_REDIS_URL"]


@pytest.fixture(scope="session")
def mongodb_url() -> str:
    return os.environ["TEST_MONGODB_URL"]


@pytest.fixture(scope="session")
def test_tmp() -> Path:
    return Path(os.environ["TEST_TMP"])


@pytest.fixture
def unique_name() -> str:
    """A short unique suffix for database names, keys and streams of one test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def workdir(test_tmp: Path, unique_name: str) -> Iterator[Path]:
    path = test_tmp / f"w-{unique_name}"
    path.mkdir()
    yield path
