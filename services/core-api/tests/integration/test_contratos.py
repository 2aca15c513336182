"""/api/v1/contratos: one per PI, numbered per empresa, never from a cancelled PI."""

from __future__ import annotations

import pytest
from beanie import PydanticObjectId
from core_api.domain.contratos.models import Contrato
from core_api.domain.documentos.snapshots import document_snapshot
from core_api.domain.empresas.models import Empresa
from core_api.domain.pis.models import PI

URL = "/api/v1/contratos"


async def make_pi(core_client, tenant, inv, placa=0, mes=3):
    r = await core_client.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[0],
            "placaIds": [inv.placa_ids[placa]],
            "inicio": f"2031-{mes:02d}-01T00:00:00-03:00",
            "fim": f"2031-{mes + 1:02d}-01T00:00:00-03:00",
            "valorTotalCentavos": 250_000,
            "produto": "Lançamento",
        },
        headers=tenant.user_headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_get_list_and_one_per_pi(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    h = t.user_headers
    pi = await make_pi(core_client, t, inv)
    r = await core_client.post(URL, json={"piId": pi["id"]}, headers=h)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["numero"] == 1 and c["codigo"].startswith("CT-") and c["codigo"].endswith("-000001")
    assert (
        c["piId"] == pi["id"] and c["clienteId"] == inv.cliente_ids[0] and c["valorTotalCentavos"] == 250_000
    )
    assert (await core_client.get(f"{URL}/{c['id']}", headers=h)).json() == c
    r = await core_client.post(URL, json={"piId": pi["id"]}, headers=h)
    assert r.status_code == 409 and c["codigo"] in r.json()["detail"]
    second = (
        await core_client.post(URL, json={"piId": (await make_pi(core_client, t, inv, 1))["id"]}, headers=h)
    ).json()
    assert second["numero"] == 2
    page = (await core_client.get(URL, params={"sort": "numero"}, headers=h)).json()
    assert page["total"] == 2 and [x["numero"] for x in page["items"]] == [1, 2]
    assert (await core_client.get(URL, params={"piId": pi["id"]}, headers=h)).json()["total"] == 1
    assert await raw_db["contratos"].count_documents({}) == 2


async def test_not_from_a_cancelled_pi(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t)
    pi = await make_pi(core_client, t, inv)
    await core_client.post(f"/api/v1/pis/{pi['id']}/cancel", headers=t.user_headers)
    r = await core_client.post(URL, json={"piId": pi["id"]}, headers=t.user_headers)
    assert r.status_code == 409
    assert await raw_db["contratos"].count_documents({}) == 0


async def test_concurrent_requests_for_one_pi_make_one_contrato_and_numbers_stay_unique(
    core_client, make_tenant, make_inventario, concurrently, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    pis = [await make_pi(core_client, t, inv, 0, mes) for mes in range(1, 11)]
    same = concurrently([("POST", URL, {"piId": pis[0]["id"]}, t.user_headers)] * 12)
    assert sorted(r.status_code for r in same) == [201] + [409] * 11
    rest = concurrently([("POST", URL, {"piId": p["id"]}, t.user_headers) for p in pis[1:]])
    assert [r.status_code for r in rest] == [201] * 9
    numeros = [c["numero"] for c in await raw_db["contratos"].find({}).to_list()]
    assert len(numeros) == 10 and len(set(numeros)) == 10


async def test_tenant_isolation_and_numbering_per_empresa(core_client, make_tenant, make_inventario, raw_db):
    a, b = await make_tenant("A"), await make_tenant("B")
    inv_a, inv_b = make_inventario(a), make_inventario(b)
    c = (
        await core_client.post(
            URL, json={"piId": (await make_pi(core_client, a, inv_a))["id"]}, headers=a.user_headers
        )
    ).json()
    pi_a2 = await make_pi(core_client, a, inv_a, mes=5)
    assert (await core_client.get(URL, headers=b.user_headers)).json()["total"] == 0
    assert (await core_client.get(f"{URL}/{c['id']}", headers=b.user_headers)).status_code == 404
    assert (
        await core_client.post(URL, json={"piId": pi_a2["id"]}, headers=b.user_headers)
    ).status_code == 404
    assert await raw_db["contratos"].count_documents({}) == 1
    cb = (
        await core_client.post(
            URL, json={"piId": (await make_pi(core_client, b, inv_b))["id"]}, headers=b.user_headers
        )
    ).json()
    assert cb["numero"] == 1


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({}, 400),
        ({"piId": 1}, 400),
        ({"piId": "x", "extra": 1}, 400),
        ({"piId": "nao-e-id"}, 404),
        ({"piId": "0" * 24}, 404),
    ],
)
async def test_bad_input(core_client, make_tenant, raw_db, payload, status):
    t = await make_tenant()
    r = await core_client.post(URL, json=payload, headers=t.user_headers)
    assert r.status_code == status, r.text
    assert await raw_db["contratos"].count_documents({}) == 0
    assert (await core_client.get(f"{URL}/nao-e-id", headers=t.user_headers)).status_code == 404


async def test_contrato_snapshot(core_client, make_tenant, make_inventario, in_app_loop):
    t = await make_tenant()
    inv = make_inventario(t)
    pi = await make_pi(core_client, t, inv)
    c = (await core_client.post(URL, json={"piId": pi["id"]}, headers=t.user_headers)).json()

    async def snap():
        empresa = await Empresa.get(PydanticObjectId(t.empresa_id))
        contrato = await Contrato.get(PydanticObjectId(c["id"]))
        return await document_snapshot(core_client.app.state, empresa, await PI.get(contrato.pi_id), contrato)

    s = in_app_loop(snap)
    assert (s.kind, s.source_id, s.numero) == ("contrato", c["id"], c["codigo"])
    assert s.pi_numero == pi["codigo"] and s.placas[0].numero == inv.numeros[inv.placa_ids[0]]
    assert s.cliente.nome and s.empresa.id == t.empresa_id
    assert s.clausulas_contrato and s.clausulas_versao
