from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from core_api.domain.empresas.models import Empresa
from core_api.domain.users.models import User
from core_api.server.app import ListenerDispatch, create_app, create_internal_app
from core_api.settings import CoreApiSettings
from litestar.testing import AsyncTestClient
from shared.auth import issue_token


@pytest.fixture(autouse=True)
def _generous_render_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The legacy PDF route's render time limit (30 s) is a guard, not an expectation: on a machine
    whose cores are all busy a healthy render can take longer, so tests of core-api allow 300 s."""
    from core_api.domain.documentos import legacy

    monkeypatch.setattr(legacy, "RENDER_TIMEOUT_SECONDS", 300.0)


@pytest.fixture
def core_settings(mongodb_url: str, redis_url: str, unique_name: str) -> CoreApiSettings:
    return CoreApiSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_core_{unique_name}",
        log_json=False,
    )


@pytest.fixture
async def core_client(core_settings: CoreApiSettings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(core_settings)
    async with AsyncTestClient(app) as client:
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
