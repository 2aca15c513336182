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


#: the tests that take far longer than the rest (node id prefixes), with a rough weight (seconds of one
#: run on a quiet 2-core machine under `make test`): pytest-xdist's worksteal hands each worker a
#: contiguous share of the collection and steals only from a share's tail, so each of these is put at
#: the head of a share, longest first, and no worker is left running one of them alone at the end
#: (`_spread_long_tests`). The tests of one prefix stay together (a module-scoped fixture they share:
#: the fuzzing run's services).
LONG_TESTS = {
    "tests/contract/test_fuzz.py::": 150,
    "tests/contract/test_process_management.py::test_sigterm_finishes_in_flight_requests": 60,
    "tests/contract/test_cli.py::test_every_help_exits_0_lists_options_and_starts_or_writes_nothing": 50,
    "tests/contract/test_stack.py::test_make_up_first_look_self_healing_and_ctrl_c": 45,
    "tests/contract/test_cli.py::test_serve_on_an_inherited_socket": 40,
    "tests/contract/test_process_management.py::test_sigterm_to_one_of_two_instances": 30,
    "tests/contract/test_process_management.py::test_workers_are_summed": 25,
    "services/core-api/tests/integration/test_cli.py::test_demo_data_loads_once": 25,
    "tests/contract/test_strangler_pdf.py::test_retirement_rehearsal": 20,
    "services/pdf-service/tests/integration/test_worker_crash.py::test_sigkill_mid_batch": 15,
    "tests/contract/test_rollout.py::test_failover_to_core_api_when_pdf_service_is_down": 15,
}


def _long_prefix(item: pytest.Item) -> str | None:
    return next((prefix for prefix in LONG_TESTS if item.nodeid.startswith(prefix)), None)


def _spread_long_tests(items: list[pytest.Item], workers: int) -> None:
    """Reorder `items` in place for worksteal over `workers` workers: the long tests go, longest first,
    to the share with the least long work so far, each share starts with its long tests, and the other
    tests keep their order (module- and session-scoped fixtures stay shared by neighbours)."""
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        if (prefix := _long_prefix(item)) is not None:
            groups.setdefault(prefix, []).append(item)
    if workers < 2 or not groups:
        return
    rest = [i for i in items if _long_prefix(i) is None]
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    load = [0] * workers
    for prefix in sorted(groups, key=lambda p: LONG_TESTS[p], reverse=True):
        k = load.index(min(load))
        heads[k] += groups[prefix]
        load[k] += LONG_TESTS[prefix]
    # worksteal's first distribution: len(pending) // nodes_remaining items to each node in turn
    ordered: list[pytest.Item] = []
    pending = len(items)
    for k in range(workers):
        size = pending // (workers - k)
        pending -= size
        fill = max(size - len(heads[k]), 0)
        ordered += heads[k] + rest[:fill]
        rest = rest[fill:]
    items[:] = ordered + rest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _spread_long_tests(items, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
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
