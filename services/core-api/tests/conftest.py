from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from core_api.domain import all_documents
from core_api.domain.empresas.models import Empresa
from core_api.domain.users.models import User
from core_api.server.app import ListenerDispatch, create_app, create_internal_app
from core_api.settings import CoreApiSettings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pymongo import MongoClient
from redis import Redis as SyncRedis
from shared.auth import issue_token
from shared.infra import ensure_indexes


@pytest.fixture(autouse=True, scope="session")
def _generous_render_time_limit() -> Iterator[None]:
    """The legacy PDF route's render time limit (30 s) is a guard, not an expectation: on a machine
    whose cores are all busy a healthy render can take longer, so tests of core-api allow 300 s.
    For the whole session: the worker's shared app reads it once, when it is built."""
    from core_api.domain.documentos import legacy

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(legacy, "RENDER_TIMEOUT_SECONDS", 300.0)
        yield


@dataclass
class SharedCore:
    """The worker's core-api app, started once per pytest-xdist worker (one Beanie initialisation), and
    what a test needs to start from an empty database: a plain client to empty the collections."""

    settings: CoreApiSettings
    mongo: MongoClient[Any]
    client: AsyncTestClient | None = None
    collections: frozenset[str] = frozenset()

    def reset(self) -> None:
        """Empty every collection and the database's Redis keys (login limits, refresh tokens), so the
        test starts as on a fresh database; the indexes stay (re-created if a test dropped them)."""
        db = self.mongo[self.settings.mongodb_db]
        names = set(db.list_collection_names())
        for name in names:  # emptied, not dropped: an index the app makes on first use stays
            db[name].delete_many({})
        if self.client is not None and not self.collections <= names:  # a test dropped the database
            self.client.blocking_portal.call(_reindex, self.client.app)
        redis = SyncRedis.from_url(self.settings.redis_url)
        try:
            keys = list(redis.scan_iter(match=f"{self.settings.mongodb_db}:*", count=1000))
            if keys:
                redis.delete(*keys)
        finally:
            redis.close()


@pytest.fixture(scope="session")
def _shared_core(mongodb_url: str, redis_url: str) -> Iterator[SharedCore]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings = CoreApiSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_core_{worker}_{uuid.uuid4().hex[:6]}",
        log_json=False,
    )
    mongo: MongoClient[Any] = MongoClient(mongodb_url, serverSelectionTimeoutMS=60_000, tz_aware=True)
    yield SharedCore(settings, mongo)
    mongo.close()


def _overridden(request: pytest.FixtureRequest, name: str) -> bool:
    """True when a test module or class overrides fixture `name` (its own settings, its own app)."""
    defs = request.node._fixtureinfo.name2fixturedefs.get(name, ())
    return len(defs) > 1


def _own_app(request: pytest.FixtureRequest) -> bool:
    """Whether this test needs an app of its own: its module overrides the settings or the servers
    they point at, or it is marked `own_database`."""
    return (
        any(_overridden(request, name) for name in ("core_settings", "mongodb_url", "redis_url"))
        or request.node.get_closest_marker("own_database") is not None
    )


@pytest.fixture
def core_settings(
    request: pytest.FixtureRequest,
    mongodb_url: str,
    redis_url: str,
    unique_name: str,
) -> CoreApiSettings:
    """The settings of the test's core-api: the worker's shared app and database, emptied for this test.

    A module that overrides `core_settings` (other Redis, stream prefix, ...), or a test marked
    `own_database` (it needs a fresh database, e.g. to create the indexes itself), gets a database of
    its own instead, and `core_client` then starts an app of its own for the test."""
    if _own_app(request):
        return CoreApiSettings(
            environment="test",
            mongodb_url=mongodb_url,
            redis_url=redis_url,
            mongodb_db=f"t_core_{unique_name}",
            log_json=False,
        )
    shared: SharedCore = request.getfixturevalue("_shared_core")
    shared.reset()
    return shared.settings


@pytest.fixture(scope="session")
async def _shared_core_client(_shared_core: SharedCore) -> AsyncIterator[AsyncTestClient]:
    """The worker's one core-api app (one lifespan, one Beanie initialisation), for every test that
    uses `core_client` with the default settings."""
    async with AsyncTestClient(create_app(_shared_core.settings)) as client:
        db = _shared_core.mongo[_shared_core.settings.mongodb_db]
        _shared_core.collections = frozenset(db.list_collection_names())
        _shared_core.client = client
        yield client
        _shared_core.client = None


async def _bind_beanie(app: Litestar) -> None:
    """Point the Beanie models at the shared app's database again: a test that started an app of its
    own (other settings, a replica) re-initialised them on that app's client, closed since."""
    from beanie import init_beanie

    if Empresa.get_pymongo_collection().database is not app.state.db:
        await init_beanie(database=app.state.db, document_models=all_documents(), skip_indexes=True)


async def _reindex(app: Litestar) -> None:
    await _bind_beanie(app)
    await ensure_indexes(all_documents())


@pytest.fixture
def _core_shared_client(request: pytest.FixtureRequest) -> AsyncTestClient | None:
    """The worker's shared app, or None when this test needs its own (only then is the shared one
    not started: a module pointing at other servers must not start it on theirs)."""
    return None if _own_app(request) else request.getfixturevalue("_shared_core_client")


@pytest.fixture
async def core_client(
    core_settings: CoreApiSettings, _core_shared_client: AsyncTestClient | None
) -> AsyncIterator[AsyncTestClient]:
    if _core_shared_client is None:  # the module's own settings or servers: an app for this test
        async with AsyncTestClient(create_app(core_settings)) as client:
            yield client
        return
    client = _core_shared_client
    client.cookies.clear()
    client.blocking_portal.call(_bind_beanie, client.app)
    yield client


R = TypeVar("R")


@pytest.fixture
def listener_get(
    core_client: AsyncTestClient, core_settings: CoreApiSettings
) -> Callable[..., httpx.Response]:
    """GET through core-api's two listeners as `core-api serve` runs them (`create_server_app`):
    `listener_get("public" | "internal", path, headers)`. The request reaches `ListenerDispatch` with the
    listener's port as the ASGI `server`, on the test app's loop and state."""
    dispatch = ListenerDispatch(
        core_client.app,
        create_internal_app(core_settings, core_client.app.state),
        core_settings.internal_port,
    )
    ports = {"public": core_settings.port, "internal": core_settings.internal_port}

    def _get(listener: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=dispatch)
            async with httpx.AsyncClient(
                transport=transport, base_url=f"http://127.0.0.1:{ports[listener]}"
            ) as c:
                return await c.get(path, headers=headers or {})

        return core_client.blocking_portal.call(go)

    return _get


@pytest.fixture
def in_app_loop(core_client: AsyncTestClient) -> Callable[..., Any]:
    """Run `fn(*args)` (a coroutine function) on the app's event loop and return its result.

    AsyncTestClient runs the app in a thread with its own event loop, and pymongo's async client is
    bound to the loop it was created on, so direct Beanie calls from a test must go through here.
    """

    def _run(fn: Callable[..., Awaitable[R]], *args: Any) -> R:
        return core_client.blocking_portal.call(fn, *args)

    return _run


@dataclass
class Tenant:
    """An empresa with an admin and a plain user, and ready-to-use auth headers for both."""

    empresa_id: str
    admin_id: str
    user_id: str
    admin_headers: dict[str, str]
    user_headers: dict[str, str]


@pytest.fixture
def make_tenant(
    core_client: AsyncTestClient, core_settings: CoreApiSettings, in_app_loop: Callable[..., Any]
) -> Callable[..., Awaitable[Tenant]]:
    """Factory: creates an empresa with an admin and a user directly in the database.

    Tests of routes other than /auth use it so they do not depend on the register/login flow.
    The users have an unusable password hash; log in through /auth/register'd users instead.
    """

    async def _insert(nome: str) -> tuple[Empresa, dict[str, str]]:
        empresa = await Empresa(nome=f"{nome} {uuid.uuid4().hex[:6]}").insert()
        ids = {}
        for role in ("admin", "user"):
            user = await User(
                empresa_id=empresa.id,
                nome=f"{role.title()} de {nome}",
                email=f"{role}-{uuid.uuid4().hex[:10]}@example.com",
                password_hash="!unusable",
                role=role,
            ).insert()
            ids[role] = str(user.id)
        return empresa, ids

    async def _make(nome: str = "Empresa Teste") -> Tenant:
        empresa, ids = in_app_loop(_insert, nome)

        def headers(role: str) -> dict[str, str]:
            token, _ = issue_token(
                core_settings, user_id=ids[role], empresa_id=str(empresa.id), role=role, typ="access"
            )
            return {"Authorization": f"Bearer {token}"}

        return Tenant(str(empresa.id), ids["admin"], ids["user"], headers("admin"), headers("user"))

    return _make
