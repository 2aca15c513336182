"""pdf-service's synchronous PDF routes against a real core-api process (real FerretDB, Redis and
WeasyPrint): the same contract as core-api's legacy routes, the data fetched from core-api's
internal snapshot endpoint with the caller's token."""

from __future__ import annotations

import asyncio
import io
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from devstack.servers import Server, free_port, start_service
from litestar.testing import AsyncTestClient
from pdf_service.server.app import create_app
from pdf_service.settings import PdfServiceSettings
from pypdf import PdfReader
from shared.documents.isolated import IsolatedRenderer

PERIODO = {"inicio": "2031-03-01T00:00:00-03:00", "fim": "2031-04-01T00:00:00-03:00"}


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(body)).pages).split())


def register(core: str, nome: str) -> dict[str, str]:
    """A new empresa through core-api's public API; returns its admin's auth headers."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    body = {"empresa": {"nome": nome}, "admin": {"nome": "Admin", "email": email, "password": "s3nha-segura"}}
    assert httpx.post(f"{core}/api/v1/auth/register", json=body).status_code == 202
    r = httpx.post(f"{core}/api/v1/auth/login", json={"email": email, "password": "s3nha-segura"})
    return {"Authorization": f"Bearer {r.json()['accessToken']}"}


def seed(core: str, headers: dict[str, str]) -> dict[str, str]:
    """Região, two placas, a cliente, a PI booking both placas and its contrato; returns their ids."""
    with httpx.Client(base_url=core, headers=headers, timeout=10) as c:

        def post(path: str, body: dict) -> dict:
            r = c.post(path, json=body)
            assert r.status_code == 201, r.text
            return r.json()

        regiao = post("/api/v1/regioes", {"nome": "Zona Sul"})
        placas = [
            post(
                "/api/v1/placas",
                {
                    "numero": f"PL-{i}",
                    "regiaoId": regiao["id"],
                    "endereco": f"Av. Boa Viagem, {i}00",
                    "uf": "PE",
                },
            )
            for i in (1, 2)
        ]
        cliente = post("/api/v1/clientes", {"nome": "Padaria São João"})
        pi = post(
            "/api/v1/pis",
            {
                "clienteId": cliente["id"],
                "placaIds": [p["id"] for p in placas],
                **PERIODO,
                "valorTotalCentavos": 250_000,
                "produto": "Pão de queijo",
            },
        )
        contrato = post("/api/v1/contratos", {"piId": pi["id"]})
    return {"pi": pi["id"], "contrato": contrato["id"]}


@pytest.fixture(scope="module")
def core_api(mongodb_url: str, redis_url: str, test_tmp: Path) -> Iterator[Server]:
    """core-api as a real uvicorn process on a database of its own."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "MONGODB_URL": mongodb_url,
        "REDIS_URL": redis_url,
        "CORE_API_MONGODB_DB": f"t_sync_core_{uuid.uuid4().hex[:8]}",
        "CORE_API_PORT": str(port),
        "CORE_API_WORKERS": "1",
        "LOG_JSON": "true",
    }
    srv = start_service("core-api", "core_api", port, env, test_tmp / f"sync-pdf-core-{port}")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def tenant(core_api: Server) -> tuple[dict[str, str], dict[str, str]]:
    headers = register(core_api.url, "Painéis Horizonte")
    return headers, seed(core_api.url, headers)


@pytest.fixture(scope="module")
def warm_renderer() -> None:
    # the first render of a process starts the forkserver (which renders once to warm up)
    IsolatedRenderer.warm_up()


@pytest.fixture
async def sync_client(
    mongodb_url: str, redis_url: str, unique_name: str, core_api: Server, warm_renderer: None
) -> AsyncIterator[AsyncTestClient]:
    settings = PdfServiceSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_pdf_{unique_name}",
        log_json=False,
        core_api_internal_url=core_api.extra["internal_url"],
    )
    async with AsyncTestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize("kind", ["pis", "contratos"])
async def test_same_contract_and_text_as_the_legacy_route(sync_client, core_api, tenant, kind):
    headers, ids = tenant
    source_id = ids["pi" if kind == "pis" else "contrato"]
    path = f"/api/v1/{kind}/{source_id}/pdf"
    new = await sync_client.get(path, headers=headers)
    legacy = await asyncio.to_thread(httpx.get, core_api.url + path, headers=headers, timeout=30)
    assert new.status_code == legacy.status_code == 200, new.text
    for header in ("content-type", "content-disposition"):
        assert new.headers[header] == legacy.headers[header]
    assert new.headers["content-type"] == "application/pdf"
    prefix = "pi" if kind == "pis" else "contrato"
    assert new.headers["content-disposition"].startswith(f'attachment; filename="{prefix}-')
    assert new.headers["content-disposition"].endswith('-padaria-sao-joao.pdf"')
    text = pdf_text(new.content)
    assert text == pdf_text(legacy.content)
    for expected in ("Padaria São João", "PL-1", "PL-2", "R$ 2.500,00", "01/03/2031", "31/03/2031"):
        assert expected in text, expected


async def test_tenant_scoping_and_auth_match_core_api(sync_client, core_api, tenant):
    headers, ids = tenant
    other = await asyncio.to_thread(register, core_api.url, "Concorrente")
    for path in (f"/api/v1/pis/{ids['pi']}/pdf", f"/api/v1/contratos/{ids['contrato']}/pdf"):
        r = await sync_client.get(path, headers=other)
        assert r.status_code == 404, r.text
        assert "not found" in r.json()["detail"]
        assert (await sync_client.get(path)).status_code == 401
        assert (await sync_client.get(path, headers={"Authorization": "Bearer nope"})).status_code == 401
    for path in ("/api/v1/pis/not-an-id/pdf", "/api/v1/contratos/65a000000000000000000001/pdf"):
        assert (await sync_client.get(path, headers=headers)).status_code == 404


async def test_request_id_reaches_core_api(sync_client, core_api, tenant):
    headers, ids = tenant
    rid = f"sync-pdf-{uuid.uuid4().hex[:12]}"
    r = await sync_client.get(f"/api/v1/pis/{ids['pi']}/pdf", headers={**headers, "X-Request-ID": rid})
    assert r.status_code == 200 and r.headers["x-request-id"] == rid
    await asyncio.sleep(0.2)
    assert rid in core_api.log_path.read_text(errors="replace")


async def test_core_api_unreachable_is_503_with_a_message(mongodb_url, redis_url, unique_name, tenant):
    headers, ids = tenant
    settings = PdfServiceSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_pdf_{unique_name}",
        log_json=False,
        core_api_internal_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    async with AsyncTestClient(create_app(settings)) as client:
        r = await client.get(f"/api/v1/pis/{ids['pi']}/pdf", headers=headers)
    assert r.status_code == 503
    assert "core-api is unreachable" in r.json()["detail"]


async def test_wrong_internal_token_is_502_not_a_client_error(
    mongodb_url, redis_url, unique_name, core_api, tenant
):
    headers, ids = tenant
    settings = PdfServiceSettings(
        environment="test",
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        mongodb_db=f"t_pdf_{unique_name}",
        log_json=False,
        core_api_internal_url=core_api.extra["internal_url"],
        internal_token="not-the-shared-one",
    )
    async with AsyncTestClient(create_app(settings)) as client:
        r = await client.get(f"/api/v1/pis/{ids['pi']}/pdf", headers=headers)
    assert r.status_code == 502
    assert "INTERNAL_TOKEN differs" in r.json()["detail"]
