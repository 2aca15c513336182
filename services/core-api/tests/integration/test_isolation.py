"""Tenant isolation matrix: empresa B can neither see nor touch anything of empresa A, whatever id
it sends, on every route of regiões, placas, clientes and users."""

import pytest


@pytest.fixture
async def two_tenants(core_client, make_tenant):
    a = await make_tenant("A")
    b = await make_tenant("B")
    h = a.admin_headers
    regiao = (await core_client.post("/api/v1/regioes", json={"nome": "Centro A"}, headers=h)).json()
    placa = (
        await core_client.post(
            "/api/v1/placas",
            json={"numero": "A-1", "regiaoId": regiao["id"], "endereco": "Rua A, 1"},
            headers=h,
        )
    ).json()
    cliente = (await core_client.post("/api/v1/clientes", json={"nome": "Cliente de A"}, headers=h)).json()
    ids = {"regioes": regiao["id"], "placas": placa["id"], "clientes": cliente["id"], "users": a.user_id}
    return a, b, ids


PATCHES = {
    "regioes": {"nome": "hacked"},
    "placas": {"numero": "hacked"},
    "clientes": {"nome": "hacked"},
    "users": {"nome": "hacked", "role": "admin"},
}


@pytest.mark.parametrize("area", ["regioes", "placas", "clientes", "users"])
async def test_other_empresa_sees_and_changes_nothing(core_client, two_tenants, area):
    a, b, ids = two_tenants
    own_id = ids[area]
    url = f"/api/v1/{area}/{own_id}"
    before = (await core_client.get(url, headers=a.admin_headers)).json()

    # B's list shows nothing of A (B's own users are its admin and user)
    listed = (await core_client.get(f"/api/v1/{area}", headers=b.admin_headers)).json()
    assert own_id not in {item["id"] for item in listed["items"]}
    if area != "users":
        assert listed["total"] == 0
    else:
        assert {u["empresaId"] for u in listed["items"]} == {b.empresa_id}
    # a search for A's data finds nothing either
    found = (await core_client.get(f"/api/v1/{area}", params={"q": "A"}, headers=b.admin_headers)).json()
    assert own_id not in {item["id"] for item in found["items"]}

    # B's plain user: 404 too (users routes are admin-only, so 403 before any lookup)
    assert (await core_client.get(url, headers=b.user_headers)).status_code == (
        403 if area == "users" else 404
    )
    assert (await core_client.get(url, headers=b.admin_headers)).status_code == 404
    assert (await core_client.patch(url, json=PATCHES[area], headers=b.admin_headers)).status_code == 404
    assert (await core_client.delete(url, headers=b.admin_headers)).status_code == 404

    after = await core_client.get(url, headers=a.admin_headers)
    assert after.status_code == 200 and after.json() == before


async def test_placa_cannot_point_at_other_empresas_regiao_and_filter_leaks_nothing(core_client, two_tenants):
    a, b, ids = two_tenants
    r = await core_client.post(
        "/api/v1/placas",
        json={"numero": "B-1", "regiaoId": ids["regioes"], "endereco": "Rua B"},
        headers=b.user_headers,
    )
    assert r.status_code == 400
    r = await core_client.get("/api/v1/placas", params={"regiaoId": ids["regioes"]}, headers=b.user_headers)
    assert r.status_code == 200 and r.json()["total"] == 0
    # B's región delete of A's região id is 404, and A's região with its placa stays
    assert (
        await core_client.delete(f"/api/v1/regioes/{ids['regioes']}", headers=b.admin_headers)
    ).status_code == 404
    assert (
        await core_client.get(f"/api/v1/placas/{ids['placas']}", headers=a.user_headers)
    ).status_code == 200


async def test_me_and_empresa_are_the_callers_own(core_client, two_tenants):
    a, b, _ = two_tenants
    me = (await core_client.get("/api/v1/auth/me", headers=b.user_headers)).json()
    assert me["empresa"]["id"] == b.empresa_id and me["user"]["id"] == b.user_id
    assert (await core_client.get("/api/v1/empresa", headers=b.user_headers)).json()["id"] == b.empresa_id
    r = await core_client.patch("/api/v1/empresa", json={"nome": "B renamed"}, headers=b.admin_headers)
    assert r.status_code == 200 and r.json()["id"] == b.empresa_id
    assert (await core_client.get("/api/v1/empresa", headers=a.user_headers)).json()["nome"] != "B renamed"
    # only admins change the empresa
    assert (
        await core_client.patch("/api/v1/empresa", json={"nome": "x"}, headers=b.user_headers)
    ).status_code == 403
