"""GET /api/v1/placas/disponiveis: placas free for a whole period, by região; routing vs /placas/{id}."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

URL = "/api/v1/placas/disponiveis"
JUN = {"inicio": "2031-06-01T00:00:00-03:00", "fim": "2031-07-01T00:00:00-03:00"}


async def test_static_segment_wins_over_the_path_parameter_in_any_order():
    @get("/api/v1/placas/{placa_id:str}", sync_to_thread=False)
    def by_id(placa_id: FromPath[str]) -> str:
        return f"id:{placa_id}"

    @get("/api/v1/placas/disponiveis", sync_to_thread=False)
    def disponiveis() -> str:
        return "disponiveis"

    for handlers in ([by_id, disponiveis], [disponiveis, by_id]):
        async with AsyncTestClient(Litestar(route_handlers=handlers)) as client:
            assert (await client.get("/api/v1/placas/disponiveis")).text == "disponiveis"
            assert (await client.get("/api/v1/placas/abc")).text == "id:abc"


async def test_real_app_routes_both(core_client, make_tenant, make_inventario):
    paths = {r.path for r in core_client.app.routes}
    assert {"/api/v1/placas/disponiveis", "/api/v1/placas/{placa_id:str}"} <= paths
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    r = await core_client.get(URL, params=JUN, headers=t.user_headers)
    assert r.status_code == 200 and r.json()["items"][0]["id"] == inv.placa_ids[0]
    # the other area's /placas/{id} still answers for ids
    r = await core_client.get(f"/api/v1/placas/{inv.placa_ids[0]}", headers=t.user_headers)
    assert r.status_code == 200 and "items" not in r.json()


async def test_free_placas_by_period_and_regiao(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    # P1, P3 in região 1; P2, P4 in região 2; P4 inactive
    inv = make_inventario(t, placas=4, regioes=2, inativas=1)
    h = t.user_headers
    r = await core_client.post(
        "/api/v1/alugueis",
        json={
            "placaId": inv.placa_ids[0],
            "clienteId": inv.cliente_ids[0],
            "inicio": "2031-06-20T00:00:00-03:00",
            "fim": "2031-06-21T00:00:00-03:00",
            "valorCentavos": 1,
        },
        headers=h,
    )
    assert r.status_code == 201
    pi = await core_client.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[0],
            "placaIds": [inv.placa_ids[1]],
            "inicio": "2031-07-01T00:00:00-03:00",
            "fim": "2031-08-01T00:00:00-03:00",
            "valorTotalCentavos": 1,
            "produto": "x",
        },
        headers=h,
    )
    assert pi.status_code == 201

    async def livres(**params):
        r = await core_client.get(URL, params=params, headers=h)
        assert r.status_code == 200, r.text
        return [p["id"] for p in r.json()["items"]]

    p1, p2, p3, _p4 = inv.placa_ids
    # June: P1 busy one day; P2's PI starts in July (fim is exclusive, so June 30th is free)
    assert await livres(**JUN) == [p2, p3]
    assert await livres(**JUN, regiaoId=inv.regiao_ids[0]) == [p3]
    assert await livres(**JUN, regiaoId=inv.regiao_ids[1]) == [p2]
    assert await livres(inicio="2031-06-30T00:00:00-03:00", fim="2031-07-02T00:00:00-03:00") == [p1, p3]
    assert await livres(inicio="2031-05-01T00:00:00-03:00", fim="2031-06-01T00:00:00-03:00") == [p1, p2, p3]
    page = (await core_client.get(URL, params={**JUN, "pageSize": 1, "page": 2}, headers=h)).json()
    assert page["total"] == 2 and [p["id"] for p in page["items"]] == [p3] and page["items"][0]["numero"]
    # cancelling frees it again
    await core_client.post(f"/api/v1/pis/{pi.json()['id']}/cancel", headers=h)
    assert await livres(inicio="2031-07-01T00:00:00-03:00", fim="2031-07-02T00:00:00-03:00") == [p1, p2, p3]


async def test_bad_queries(core_client, make_tenant, make_inventario):
    a, b = await make_tenant("A"), await make_tenant("B")
    inv_a = make_inventario(a)
    make_inventario(b, placas=2)
    h = b.user_headers
    for params in (
        {},
        {"inicio": JUN["inicio"]},
        {"inicio": "2031-06-01T00:00:00", "fim": JUN["fim"]},
        {"inicio": JUN["fim"], "fim": JUN["inicio"]},
        {"inicio": "ontem", "fim": JUN["fim"]},
        {**JUN, "pageSize": 0},
        {**JUN, "sort": "senha"},
        {"inicio": "2031-01-01T00:00:00Z", "fim": "2039-01-01T00:00:00Z"},
    ):
        assert (await core_client.get(URL, params=params, headers=h)).status_code == 400, params
    assert (await core_client.get(URL, params={**JUN, "regiaoId": "nao-e-id"}, headers=h)).status_code == 404
    # another empresa's região is not found, and B never sees A's placas
    assert (
        await core_client.get(URL, params={**JUN, "regiaoId": inv_a.regiao_ids[0]}, headers=h)
    ).status_code == 404
    ids = [p["id"] for p in (await core_client.get(URL, params=JUN, headers=h)).json()["items"]]
    assert len(ids) == 2 and not set(ids) & set(inv_a.placa_ids)
    assert (await core_client.get(URL, params=JUN)).status_code == 401
