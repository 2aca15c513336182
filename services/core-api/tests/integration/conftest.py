"""Fixtures for the booking tests (aluguéis, PIs, contratos, availability).

Test data (regiões, placas, clientes) is created with the Beanie models on the app's event loop
(`in_app_loop`), so these tests do not depend on the other areas' HTTP routes. `raw_db` is a
separate pymongo client on the test's own loop, used to check what is stored.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId
from core_api.domain.clientes.models import Cliente
from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.settings import CoreApiSettings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pymongo import AsyncMongoClient


@dataclass
class Inventario:
    """One empresa's test data: regiões, placas (numero P1, P2, ...) and clientes, as id strings."""

    empresa_id: str
    regiao_ids: list[str]
    placa_ids: list[str]
    cliente_ids: list[str]
    numeros: dict[str, str] = field(default_factory=dict)  # placa id → numero


@pytest.fixture
def make_inventario(in_app_loop: Callable[..., Any]) -> Callable[..., Inventario]:
    """Factory: `make_inventario(tenant, placas=3, regioes=1, clientes=1, inativas=0)`.

    Placas are spread round-robin over the regiões; the last `inativas` placas are inactive.
    """

    async def _insert(empresa_id: str, placas: int, regioes: int, clientes: int, inativas: int) -> Inventario:
        eid = PydanticObjectId(empresa_id)
        tag = uuid.uuid4().hex[:4]
        regs = [await Regiao(empresa_id=eid, nome=f"Região {i + 1} {tag}").insert() for i in range(regioes)]
        pls = [
            await Placa(
                empresa_id=eid,
                numero=f"P{i + 1}-{tag}",
                regiao_id=regs[i % regioes].id,
                endereco=f"Av. Paulista, {1000 + i}",
                cidade="São Paulo",
                uf="SP",
                valor_mensal_centavos=150_000,
                ativa=i < placas - inativas,
            ).insert()
            for i in range(placas)
        ]
        cls = [
            await Cliente(
                empresa_id=eid, nome=f"Cliente {i + 1} {tag}", documento="11.222.333/0001-81"
            ).insert()
            for i in range(clientes)
        ]
        return Inventario(
            empresa_id=empresa_id,
            regiao_ids=[str(r.id) for r in regs],
            placa_ids=[str(p.id) for p in pls],
            cliente_ids=[str(c.id) for c in cls],
            numeros={str(p.id): p.numero for p in pls},
        )

    def _make(
        tenant: Any, placas: int = 3, regioes: int = 1, clientes: int = 1, inativas: int = 0
    ) -> Inventario:
        return in_app_loop(_insert, tenant.empresa_id, placas, regioes, clientes, inativas)

    return _make


@pytest.fixture
async def raw_db(mongodb_url: str, core_settings: CoreApiSettings) -> AsyncIterator[Any]:
    """The test's database through a plain pymongo client on the test loop (for assertions)."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, tz_aware=True)
    yield client[core_settings.mongodb_db]
    await client.close()


Call = tuple[str, str, dict[str, Any] | None, dict[str, str]]  # method, url, json, headers


@pytest.fixture
def concurrently(core_client: AsyncTestClient) -> Callable[..., list[httpx.Response]]:
    """Send requests truly concurrently: all on the app's own event loop, through
    `httpx.ASGITransport`, gathered at once (AsyncTestClient would run them one after another).

    `concurrently(calls, replicas=[app, ...])` also starts those extra apps (their own lifespan,
    MongoDB and Redis clients) and spreads the calls round-robin over the test app and them, as a
    load balancer spreads requests over replicas.
    """

    def _run(calls: Sequence[Call], replicas: Sequence[Litestar] = ()) -> list[httpx.Response]:
        targets = [core_client.app, *replicas]

        async def _go() -> list[httpx.Response]:
            async with AsyncExitStack() as stack:
                for replica in replicas:
                    await stack.enter_async_context(replica.lifespan())
                    assert replica.state.mongo_initialized, "replica did not initialise"
                return await _gather()

        async def _gather() -> list[httpx.Response]:
            clients = [
                httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://testserver")
                for a in targets
            ]
            try:
                return await asyncio.gather(
                    *(
                        clients[i % len(clients)].request(method, url, json=body, headers=headers)
                        for i, (method, url, body, headers) in enumerate(calls)
                    )
                )
            finally:
                for c in clients:
                    await c.aclose()

        return core_client.blocking_portal.call(_go)

    return _run
