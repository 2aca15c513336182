"""The legacy PDF routes (GET /api/v1/{pis,contratos}/{id}/pdf, rendered in core-api with real
WeasyPrint in a separate process) and the internal snapshot endpoint pdf-service calls."""

from __future__ import annotations

import io
import re
from datetime import datetime

import httpx
import pytest
from core_api.server.app import create_app, create_internal_app
from core_api.settings import CoreApiSettings
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from shared.documents import DocumentSnapshot
from shared.documents.snapshot import LOCAL_TZ

YEAR = datetime.now(LOCAL_TZ).year  # PIs are numbered by the year they were created
MAR = {"inicio": "2031-03-01T00:00:00-03:00", "fim": "2031-04-01T00:00:00-03:00"}
INTERNAL = {"X-Internal-Token": CoreApiSettings(environment="test").internal_token.get_secret_value()}
FILENAME = re.compile(r'^attachment; filename="(pi|contrato)-[a-z0-9-]+\.pdf"$')


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(body)).pages).split())


async def create_pi(core_client, tenant, inv, placas: int = 2) -> dict:
    r = await core_client.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[0],
            "placaIds": inv.placa_ids[:placas],
            **MAR,
            "valorTotalCentavos": 1_234_56,
            "produto": "Pão de queijo artesanal",
            "descricao": "Campanha de lançamento.",
        },
        headers=tenant.user_headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
async def pi_with_contrato(core_client, make_tenant, make_inventario):
    tenant = await make_tenant("Painéis Horizonte")
    inv = make_inventario(tenant, placas=2)
    pi = await create_pi(core_client, tenant, inv)
    r = await core_client.post("/api/v1/contratos", json={"piId": pi["id"]}, headers=tenant.user_headers)
    assert r.status_code == 201, r.text
    return tenant, inv, pi, r.json()


async def test_pi_pdf_prints_the_pi(core_client, pi_with_contrato):
    tenant, inv, pi, _ = pi_with_contrato
    r = await core_client.get(f"/api/v1/pis/{pi['id']}/pdf", headers=tenant.user_headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert FILENAME.match(r.headers["content-disposition"]), r.headers["content-disposition"]
    assert r.headers["content-disposition"].startswith(
        f'attachment; filename="pi-{YEAR}-{pi["numero"]:06d}-cliente-1-'
    )
    assert r.content.startswith(b"%PDF-")
    text = pdf_text(r.content)
    for expected in (
        "PEDIDO DE INSERÇÃO",  # headings are upper-cased by the stylesheet
        "Pão de queijo artesanal",
        "Campanha de lançamento.",
        "R$ 1.234,56",
        "01/03/2031",
        "31/03/2031",
        *inv.numeros.values(),
        "Cliente 1",
    ):
        assert expected in text, (expected, text[:500])


async def test_contrato_pdf_prints_the_contrato(core_client, pi_with_contrato):
    tenant, _, pi, contrato = pi_with_contrato
    r = await core_client.get(f"/api/v1/contratos/{contrato['id']}/pdf", headers=tenant.admin_headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    codigo = contrato["codigo"].lower()
    assert r.headers["content-disposition"].startswith(f'attachment; filename="contrato-{codigo}-cliente-1-')
    text = pdf_text(r.content)
    assert "CONTRATO DE LOCAÇÃO" in text and contrato["codigo"] in text
    assert pi["codigo"] in text and pi["codigo"] == f"PI-{YEAR}-{pi['numero']:06d}"  # the PI it was made from
    assert "R$ 1.234,56" in text


async def test_other_empresa_and_bad_ids_are_404(core_client, make_tenant, pi_with_contrato):
    tenant, _, pi, contrato = pi_with_contrato
    other = await make_tenant("Concorrente")
    for path in (f"/api/v1/pis/{pi['id']}/pdf", f"/api/v1/contratos/{contrato['id']}/pdf"):
        r = await core_client.get(path, headers=other.admin_headers)
        assert r.status_code == 404, r.text
        assert r.json()["statusCode"] == 404
    for path in (
        "/api/v1/pis/not-an-id/pdf",
        "/api/v1/contratos/123/pdf",
        "/api/v1/pis/65a000000000000000000001/pdf",
        f"/api/v1/pis/{contrato['id']}/pdf",  # a contrato id is not a PI
    ):
        r = await core_client.get(path, headers=tenant.user_headers)
        assert r.status_code == 404, (path, r.text)


async def test_no_token_is_401(core_client, pi_with_contrato):
    _, _, pi, contrato = pi_with_contrato
    for path in (f"/api/v1/pis/{pi['id']}/pdf", f"/api/v1/contratos/{contrato['id']}/pdf"):
        assert (await core_client.get(path)).status_code == 401
        r = await core_client.get(path, headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401


async def test_internal_snapshot_needs_the_callers_token_and_the_internal_token(
    listener_get, make_tenant, pi_with_contrato
):
    tenant, _, pi, contrato = pi_with_contrato
    url = f"/api/v1/internal/pis/{pi['id']}/snapshot"
    r = listener_get("internal", url, {**tenant.user_headers, **INTERNAL})
    assert r.status_code == 200, r.text
    snapshot = DocumentSnapshot.model_validate(r.json())
    assert snapshot.kind == "pi" and snapshot.source_id == pi["id"]
    assert (
        snapshot.periodo.inicio.isoformat() == "2031-03-01"
        and snapshot.periodo.fim.isoformat() == "2031-03-31"
    )
    assert "sourceId" in r.json()  # camelCase on the wire

    r = listener_get(
        "internal",
        f"/api/v1/internal/contratos/{contrato['id']}/snapshot",
        {**tenant.user_headers, **INTERNAL},
    )
    assert r.status_code == 200 and r.json()["numero"] == contrato["codigo"]

    # a client token alone cannot call it; a wrong internal token neither
    assert listener_get("internal", url, tenant.user_headers).status_code == 403
    wrong = {"X-Internal-Token": "guess"}
    assert listener_get("internal", url, {**tenant.user_headers, **wrong}).status_code == 403
    # the internal token alone is no identity
    assert listener_get("internal", url, INTERNAL).status_code == 401
    # tenant scoping as on the public routes
    other = await make_tenant("Concorrente")
    assert listener_get("internal", url, {**other.user_headers, **INTERNAL}).status_code == 404
    bad = "/api/v1/internal/pis/zzz/snapshot"
    assert listener_get("internal", bad, {**tenant.user_headers, **INTERNAL}).status_code == 404


async def test_public_listener_has_no_internal_routes(core_client, listener_get, pi_with_contrato):
    """Issue 10: the internal routes exist only on the internal listener; the public app answers 404
    even with a valid user token and the internal token, and the internal listener serves no public route."""
    tenant, _, pi, contrato = pi_with_contrato
    both = {**tenant.user_headers, **INTERNAL}
    for path in (
        f"/api/v1/internal/pis/{pi['id']}/snapshot",
        f"/api/v1/internal/contratos/{contrato['id']}/snapshot",
    ):
        assert (await core_client.get(path, headers=both)).status_code == 404
        assert listener_get("public", path, both).status_code == 404
        assert listener_get("internal", path, both).status_code == 200
    assert not [r for r in core_client.app.routes if r.path.startswith("/api/v1/internal")]
    assert listener_get("public", "/api/v1/placas", tenant.user_headers).status_code == 200
    assert listener_get("internal", "/api/v1/placas", tenant.user_headers).status_code == 404
    # not in the public API description
    assert "/api/v1/internal" not in (await core_client.get("/api/v1/docs/openapi.json")).text


async def test_legacy_routes_gone_when_disabled_snapshot_stays(core_settings: CoreApiSettings):
    """The retirement rehearsal at the app level: LEGACY_PDF_ENABLED=false drops the legacy routes."""
    settings = core_settings.model_copy(update={"legacy_pdf_enabled": False})
    async with AsyncTestClient(create_app(settings)) as client:
        admin = {"nome": "Ana", "email": "ana@retirement.example.com", "password": "s3nha-segura"}
        r = await client.post(
            "/api/v1/auth/register", json={"empresa": {"nome": "Retirement"}, "admin": admin}
        )
        assert r.status_code == 202, r.text
        r = await client.post(
            "/api/v1/auth/login", json={"email": admin["email"], "password": admin["password"]}
        )
        headers = {"Authorization": f"Bearer {r.json()['accessToken']}"}
        oid = "65a000000000000000000001"
        r = await client.get(f"/api/v1/pis/{oid}/pdf", headers=headers)
        assert r.status_code == 404 and "not found" in r.text.lower()
        paths = (await client.get("/api/v1/docs/openapi.json")).json()["paths"]
        assert not [p for p in paths if p.endswith("/pdf")]
        internal = create_internal_app(settings, client.app.state)

        async def snapshot() -> httpx.Response:
            transport = httpx.ASGITransport(app=internal)
            async with httpx.AsyncClient(transport=transport, base_url="http://core-api-internal") as c:
                return await c.get(f"/api/v1/internal/pis/{oid}/snapshot", headers={**headers, **INTERNAL})

        r = client.blocking_portal.call(snapshot)
        assert r.status_code == 404  # routed (and scoped), the PI simply does not exist
        assert "PI" in r.json()["detail"]
