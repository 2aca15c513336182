"""/placas CRUD, filters, and rules: numero unique per empresa, regiaoId of the same empresa."""

import pytest
from core_api.domain.placas.models import Placa


@pytest.fixture
async def tenant(make_tenant):
    return await make_tenant()


async def make_regiao(client, headers, nome="Centro") -> str:
    r = await client.post("/api/v1/regioes", json={"nome": nome}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def placa_body(regiao_id: str, numero: str = "SP-001", **kw) -> dict:
    return {"numero": numero, "regiaoId": regiao_id, "endereco": "Av. Paulista, 1578", **kw}


async def make_placa(client, headers, regiao_id, numero="SP-001", **kw) -> dict:
    r = await client.post("/api/v1/placas", json=placa_body(regiao_id, numero, **kw), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_placa_crud(core_client, tenant):
    h = tenant.user_headers
    regiao = await make_regiao(core_client, h)
    created = await make_placa(
        core_client,
        h,
        regiao,
        cidade="São Paulo",
        uf="sp",
        larguraCm=900,
        alturaCm=300,
        valorMensalCentavos=250000,
    )
    assert created["uf"] == "SP" and created["ativa"] is True and created["valorMensalCentavos"] == 250000
    assert created["regiaoId"] == regiao and "empresaId" not in created
    r = await core_client.get(f"/api/v1/placas/{created['id']}", headers=h)
    assert r.status_code == 200 and r.json() == created

    outra = await make_regiao(core_client, h, "Zona Sul")
    r = await core_client.patch(
        f"/api/v1/placas/{created['id']}",
        json={"regiaoId": outra, "ativa": False, "tipo": "frontlight"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["regiaoId"], r.json()["ativa"], r.json()["tipo"]) == (outra, False, "frontlight")
    assert r.json()["numero"] == "SP-001"

    assert (await core_client.delete(f"/api/v1/placas/{created['id']}", headers=h)).status_code == 204
    assert (await core_client.get(f"/api/v1/placas/{created['id']}", headers=h)).status_code == 404
    # with its placa gone, the região can be deleted
    assert (await core_client.delete(f"/api/v1/regioes/{outra}", headers=h)).status_code == 204


async def test_placa_list_filters_sorts_and_paginates(core_client, tenant):
    h = tenant.user_headers
    centro = await make_regiao(core_client, h, "Centro")
    sul = await make_regiao(core_client, h, "Sul")
    await make_placa(core_client, h, centro, "A-3", cidade="São Paulo", valorMensalCentavos=300)
    await make_placa(core_client, h, centro, "A-1", cidade="Santos", valorMensalCentavos=100, ativa=False)
    await make_placa(
        core_client, h, sul, "A-2", cidade="são paulo", valorMensalCentavos=200, endereco="Rua Augusta, 10"
    )

    async def numeros(**params) -> list[str]:
        r = await core_client.get("/api/v1/placas", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [p["numero"] for p in r.json()["items"]]

    assert await numeros() == ["A-1", "A-2", "A-3"]
    assert await numeros(sort="-numero") == ["A-3", "A-2", "A-1"]
    assert await numeros(sort="valorMensalCentavos") == ["A-1", "A-2", "A-3"]
    assert await numeros(regiaoId=centro) == ["A-1", "A-3"]
    assert await numeros(ativa="false") == ["A-1"]
    assert await numeros(ativa="true", regiaoId=centro) == ["A-3"]
    assert await numeros(cidade="SÃO PAULO") == ["A-2", "A-3"]
    assert await numeros(q="augusta") == ["A-2"]
    assert await numeros(q="A-(") == []  # literal text, not a regex (would be an invalid one)
    r = await core_client.get("/api/v1/placas", params={"pageSize": 2, "page": 2}, headers=h)
    assert r.json()["total"] == 3 and [p["numero"] for p in r.json()["items"]] == ["A-3"]


async def test_numero_is_unique_per_empresa_409(core_client, make_tenant):
    a = await make_tenant("A")
    b = await make_tenant("B")
    ra = await make_regiao(core_client, a.user_headers)
    rb = await make_regiao(core_client, b.user_headers)
    await make_placa(core_client, a.user_headers, ra, "P-1")
    r = await core_client.post("/api/v1/placas", json=placa_body(ra, "P-1"), headers=a.user_headers)
    assert r.status_code == 409
    assert r.json()["extra"]["conflicts"][0]["field"] == "numero" and "numero" in r.json()["detail"]
    await make_placa(core_client, b.user_headers, rb, "P-1")  # another empresa may use the same numero
    second = await make_placa(core_client, a.user_headers, ra, "P-2")
    r = await core_client.patch(
        f"/api/v1/placas/{second['id']}", json={"numero": "P-1"}, headers=a.user_headers
    )
    assert r.status_code == 409 and r.json()["extra"]["conflicts"][0]["field"] == "numero"
    assert (await core_client.get(f"/api/v1/placas/{second['id']}", headers=a.user_headers)).json()[
        "numero"
    ] == "P-2"
    assert (await core_client.get("/api/v1/placas", headers=a.user_headers)).json()["total"] == 2


async def test_regiao_of_another_empresa_or_missing_is_refused(core_client, make_tenant):
    a = await make_tenant("A")
    b = await make_tenant("B")
    ra = await make_regiao(core_client, a.user_headers)
    rb = await make_regiao(core_client, b.user_headers)
    for regiao in (rb, "000000000000000000000000"):
        r = await core_client.post("/api/v1/placas", json=placa_body(regiao), headers=a.user_headers)
        assert r.status_code == 400, r.text
        assert "regiaoId" in r.json()["detail"] and r.json()["extra"][0]["key"] == "regiaoId"
    placa = await make_placa(core_client, a.user_headers, ra)
    r = await core_client.patch(
        f"/api/v1/placas/{placa['id']}", json={"regiaoId": rb}, headers=a.user_headers
    )
    assert r.status_code == 400
    assert (await core_client.get(f"/api/v1/placas/{placa['id']}", headers=a.user_headers)).json()[
        "regiaoId"
    ] == ra
    assert (await core_client.get("/api/v1/placas", headers=a.user_headers)).json()["total"] == 1


async def test_bad_placa_input_is_4xx_and_stores_nothing(core_client, tenant, in_app_loop):
    h = tenant.user_headers
    regiao = await make_regiao(core_client, h)
    kept = await make_placa(core_client, h, regiao, "KEEP", valorMensalCentavos=500)

    async def stored() -> list[dict]:
        return (
            await Placa.get_pymongo_collection()
            .find({}, {"_id": 0, "numero": 1, "valor_mensal_centavos": 1})
            .to_list()
        )

    before = in_app_loop(stored)
    bad_bodies = [
        placa_body(regiao, valorMensalCentavos=-1),
        placa_body(regiao, valorMensalCentavos=12.5),
        placa_body(regiao, valorMensalCentavos="100"),
        placa_body(regiao, valorMensalCentavos=True),
        placa_body(regiao, numero={"$gt": ""}),
        placa_body(regiao, numero=123),
        placa_body(regiao, numero=""),
        placa_body({"$ne": None}),
        placa_body("not-an-object-id"),
        placa_body(regiao, ativa="yes"),
        placa_body(regiao, uf="XX"),
        placa_body(regiao, larguraCm=0),
        placa_body(regiao, empresaId="000000000000000000000000"),
        placa_body(regiao, unknownField=1),
        {"numero": "X"},
        [placa_body(regiao)],
    ]
    for body in bad_bodies:
        r = await core_client.post("/api/v1/placas", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["detail"]
    r = await core_client.post(
        "/api/v1/placas", content=b"{not json", headers={**h, "content-type": "application/json"}
    )
    assert r.status_code == 400
    for change in (
        {"numero": None},
        {"valorMensalCentavos": -5},
        {"valorMensalCentavos": None},
        {"regiaoId": None},
        {"ativa": None},
        {"numero": {"$gt": ""}},
        {"empresaId": "x"},
    ):
        r = await core_client.patch(f"/api/v1/placas/{kept['id']}", json=change, headers=h)
        assert r.status_code == 400, (change, r.text)
    for params in ({"pageSize": 1000}, {"regiaoId": "xyz"}, {"ativa": "maybe"}, {"sort": "endereco"}):
        r = await core_client.get("/api/v1/placas", params=params, headers=h)
        assert r.status_code == 400, (params, r.text)
    # operator-looking query keys are just unknown parameters: ignored, never a filter
    r = await core_client.get("/api/v1/placas?regiaoId[$gt]=&numero[$ne]=x", headers=h)
    assert r.status_code == 200 and r.json()["total"] == 1
    for bad_id in ("nope", '{"$gt":""}', "0" * 23):
        assert (await core_client.get(f"/api/v1/placas/{bad_id}", headers=h)).status_code == 404
    assert in_app_loop(stored) == before


async def test_oversize_body_is_413(core_client, tenant, core_settings):
    h = tenant.user_headers
    regiao = await make_regiao(core_client, h)
    body = placa_body(regiao, descricao="x" * (core_settings.max_body_bytes + 10))
    r = await core_client.post("/api/v1/placas", json=body, headers=h)
    assert r.status_code == 413
    assert (await core_client.get("/api/v1/placas", headers=h)).json()["total"] == 0


async def test_openapi_documents_placas_in_camel_case(core_client):
    spec = (await core_client.get("/api/v1/docs/openapi.json")).json()
    post = spec["paths"]["/api/v1/placas"]["post"]
    assert post["summary"] and post["tags"] == ["placas"]
    schemas = spec["components"]["schemas"]
    create = next(v for k, v in schemas.items() if k.endswith("PlacaCreate"))
    assert {"regiaoId", "valorMensalCentavos"} <= set(create["properties"])
    assert create.get("examples")
    for path, item in spec["paths"].items():
        if path.startswith(
            ("/api/v1/placas", "/api/v1/regioes", "/api/v1/clientes", "/api/v1/users", "/api/v1/auth")
        ):
            for method, op in item.items():
                if method in ("get", "post", "patch", "delete"):
                    assert op.get("summary") and op.get("tags"), (path, method)
