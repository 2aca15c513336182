"""/regioes CRUD, list params, and the rules: nome unique per empresa, no delete while in use."""

from datetime import datetime


async def create_regiao(client, headers, nome="Zona Sul", **kw) -> dict:
    r = await client.post("/api/v1/regioes", json={"nome": nome, **kw}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_regiao_crud(core_client, make_tenant):
    t = await make_tenant()
    h = t.user_headers  # any member of the empresa manages regiões
    created = await create_regiao(core_client, h, "Centro", descricao="Sé e República")
    assert set(created) == {"id", "nome", "descricao", "createdAt", "updatedAt"}

    r = await core_client.get(f"/api/v1/regioes/{created['id']}", headers=h)
    assert r.status_code == 200 and r.json()["nome"] == "Centro"

    r = await core_client.patch(f"/api/v1/regioes/{created['id']}", json={"descricao": None}, headers=h)
    assert r.status_code == 200 and r.json()["descricao"] is None and r.json()["nome"] == "Centro"
    r = await core_client.patch(
        f"/api/v1/regioes/{created['id']}", json={"nome": "Centro Expandido"}, headers=h
    )
    # timestamps compared as times (as text, ".026Z" sorts before "Z")
    assert r.json()["nome"] == "Centro Expandido"
    assert datetime.fromisoformat(r.json()["updatedAt"]) >= datetime.fromisoformat(created["updatedAt"])

    assert (await core_client.delete(f"/api/v1/regioes/{created['id']}", headers=h)).status_code == 204
    assert (await core_client.get(f"/api/v1/regioes/{created['id']}", headers=h)).status_code == 404
    assert (await core_client.delete(f"/api/v1/regioes/{created['id']}", headers=h)).status_code == 404


async def test_regiao_list_paginates_sorts_and_searches(core_client, make_tenant):
    t = await make_tenant()
    h = t.user_headers
    for nome in ("Norte", "Sul", "Leste", "Oeste", "Centro"):
        await create_regiao(core_client, h, nome)
    r = await core_client.get("/api/v1/regioes", params={"pageSize": 2, "page": 2}, headers=h)
    body = r.json()
    assert body["total"] == 5 and body["page"] == 2 and body["pageSize"] == 2
    assert [x["nome"] for x in body["items"]] == ["Norte", "Oeste"]  # default sort: nome
    r = await core_client.get("/api/v1/regioes", params={"sort": "-nome", "pageSize": 1}, headers=h)
    assert r.json()["items"][0]["nome"] == "Sul"
    r = await core_client.get("/api/v1/regioes", params={"q": "EST"}, headers=h)
    assert sorted(x["nome"] for x in r.json()["items"]) == ["Leste", "Oeste"]
    # the search text is literal, not a regex
    r = await core_client.get("/api/v1/regioes", params={"q": ".*"}, headers=h)
    assert r.json()["total"] == 0


async def test_regiao_nome_is_unique_per_empresa(core_client, make_tenant):
    a = await make_tenant("A")
    b = await make_tenant("B")
    await create_regiao(core_client, a.user_headers, "Zona Sul")
    r = await core_client.post("/api/v1/regioes", json={"nome": "Zona Sul"}, headers=a.user_headers)
    assert r.status_code == 409 and r.json()["extra"]["conflicts"][0]["field"] == "nome"
    await create_regiao(core_client, b.user_headers, "Zona Sul")  # another empresa may use it
    other = await create_regiao(core_client, a.user_headers, "Zona Norte")
    r = await core_client.patch(
        f"/api/v1/regioes/{other['id']}", json={"nome": "Zona Sul"}, headers=a.user_headers
    )
    assert r.status_code == 409
    assert (await core_client.get("/api/v1/regioes", headers=a.user_headers)).json()["total"] == 2


async def test_regiao_with_placas_cannot_be_deleted(core_client, make_tenant):
    t = await make_tenant()
    h = t.user_headers
    regiao = await create_regiao(core_client, h)
    placa = {"numero": "P1", "regiaoId": regiao["id"], "endereco": "Av. Paulista, 1000"}
    r = await core_client.post("/api/v1/placas", json=placa, headers=h)
    assert r.status_code == 201
    r = await core_client.delete(f"/api/v1/regioes/{regiao['id']}", headers=h)
    assert r.status_code == 409 and "placa" in r.json()["detail"]
    assert (await core_client.get(f"/api/v1/regioes/{regiao['id']}", headers=h)).status_code == 200


async def test_bad_regiao_input_is_400_and_stores_nothing(core_client, make_tenant):
    t = await make_tenant()
    h = t.user_headers
    regiao = await create_regiao(core_client, h, "Original")
    for body in (
        {},
        {"nome": ""},
        {"nome": 12},
        {"nome": {"$gt": ""}},
        {"nome": "X", "empresaId": t.empresa_id},
        {"nome": "x" * 500},
    ):
        r = await core_client.post("/api/v1/regioes", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
    for body in ({"nome": None}, {"nome": {"$set": "x"}}, {"id": "000000000000000000000000"}):
        r = await core_client.patch(f"/api/v1/regioes/{regiao['id']}", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
    for params in (
        {"pageSize": 101},
        {"pageSize": 0},
        {"page": 0},
        {"page": "x"},
        {"sort": "descricao"},
        {"sort": "$where"},
    ):
        r = await core_client.get("/api/v1/regioes", params=params, headers=h)
        assert r.status_code == 400, (params, r.text)
    r = await core_client.get("/api/v1/regioes", headers=h)
    assert [x["nome"] for x in r.json()["items"]] == ["Original"]
    for bad_id in ("not-an-id", "123", "zzzzzzzzzzzzzzzzzzzzzzzz"):
        assert (await core_client.get(f"/api/v1/regioes/{bad_id}", headers=h)).status_code == 404
        assert (
            await core_client.patch(f"/api/v1/regioes/{bad_id}", json={"nome": "Y"}, headers=h)
        ).status_code == 404
        assert (await core_client.delete(f"/api/v1/regioes/{bad_id}", headers=h)).status_code == 404


async def test_regioes_need_a_token(core_client):
    assert (await core_client.get("/api/v1/regioes")).status_code == 401
    assert (await core_client.post("/api/v1/regioes", json={"nome": "X"})).status_code == 401
