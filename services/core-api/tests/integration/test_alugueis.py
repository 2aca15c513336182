"""/api/v1/alugueis: booking one placa, overlap rules, cancel, filters, isolation, bad input."""

from __future__ import annotations

import pytest

URL = "/api/v1/alugueis"
JAN = {"inicio": "2026-01-01T00:00:00-03:00", "fim": "2026-02-01T00:00:00-03:00"}


def body(inv, placa=0, **over):
    return {
        "placaId": inv.placa_ids[placa],
        "clienteId": inv.cliente_ids[0],
        **JAN,
        "valorCentavos": 150_000,
        **over,
    }


async def stored(raw_db) -> tuple[int, int]:
    return (
        await raw_db["alugueis"].count_documents({}),
        await raw_db["placa_ocupacoes"].count_documents({}),
    )


async def test_create_get_and_shape(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t)
    r = await core_client.post(URL, json=body(inv), headers=t.user_headers)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["placaId"] == inv.placa_ids[0] and a["clienteId"] == inv.cliente_ids[0]
    assert a["status"] == "ativo" and a["valorCentavos"] == 150_000 and a["piId"] is None
    # whole local days, fim exclusive: January 1st .. 31st
    assert (a["diaInicio"], a["diaFim"]) == ("2026-01-01", "2026-01-31")
    slots = await raw_db["placa_ocupacoes"].find({}).to_list()
    assert len(slots) == 31 and {s["estado"] for s in slots} == {"confirmado"}
    r = await core_client.get(f"{URL}/{a['id']}", headers=t.user_headers)
    assert r.status_code == 200 and r.json() == a


async def test_overlap_is_409_adjacent_is_fine(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t)
    assert (await core_client.post(URL, json=body(inv), headers=t.user_headers)).status_code == 201
    # the last day of January overlaps
    r = await core_client.post(
        URL,
        json=body(inv, inicio="2026-01-31T12:00:00-03:00", fim="2026-02-10T00:00:00-03:00"),
        headers=t.user_headers,
    )
    assert r.status_code == 409, r.text
    assert inv.numeros[inv.placa_ids[0]] in r.json()["detail"]
    # starts exactly at the exclusive end: no overlap
    r = await core_client.post(
        URL,
        json=body(inv, inicio="2026-02-01T00:00:00-03:00", fim="2026-03-01T00:00:00-03:00"),
        headers=t.user_headers,
    )
    assert r.status_code == 201, r.text
    # a period inside an existing one, given in UTC
    r = await core_client.post(
        URL, json=body(inv, inicio="2026-01-10T10:00:00Z", fim="2026-01-10T11:00:00Z"), headers=t.user_headers
    )
    assert r.status_code == 409
    # same placa other empresa-internal placa is independent
    r = await core_client.post(URL, json=body(inv, placa=1), headers=t.user_headers)
    assert r.status_code == 201
    assert await stored(raw_db) == (3, 31 + 28 + 31)


async def test_day_granularity_in_sao_paulo(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t)
    # 01:00Z on Jan 2nd is still Jan 1st in São Paulo (-03:00)
    r = await core_client.post(
        URL,
        json=body(inv, inicio="2026-01-01T10:00:00-03:00", fim="2026-01-02T01:00:00Z"),
        headers=t.user_headers,
    )
    assert r.status_code == 201
    assert (r.json()["diaInicio"], r.json()["diaFim"]) == ("2026-01-01", "2026-01-01")
    # later the same local day: taken (a placa is rented by whole days)
    r = await core_client.post(
        URL,
        json=body(inv, inicio="2026-01-01T20:00:00-03:00", fim="2026-01-01T22:00:00-03:00"),
        headers=t.user_headers,
    )
    assert r.status_code == 409
    r = await core_client.post(
        URL,
        json=body(inv, inicio="2026-01-02T00:00:00-03:00", fim="2026-01-03T00:00:00-03:00"),
        headers=t.user_headers,
    )
    assert r.status_code == 201


async def test_cancel_frees_the_booking(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t)
    a = (await core_client.post(URL, json=body(inv), headers=t.user_headers)).json()
    assert (await core_client.post(URL, json=body(inv), headers=t.user_headers)).status_code == 409
    r = await core_client.post(f"{URL}/{a['id']}/cancel", headers=t.user_headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelado" and r.json()["canceladoEm"]
    assert await raw_db["placa_ocupacoes"].count_documents({}) == 0
    assert (await raw_db["alugueis"].find_one({}))["slots_liberados"] is True
    assert (await core_client.post(f"{URL}/{a['id']}/cancel", headers=t.user_headers)).status_code == 409
    b = await core_client.post(URL, json=body(inv), headers=t.user_headers)
    assert b.status_code == 201
    # DELETE is cancel too
    r = await core_client.delete(f"{URL}/{b.json()['id']}", headers=t.user_headers)
    assert r.status_code == 204
    assert (await core_client.get(f"{URL}/{b.json()['id']}", headers=t.user_headers)).json()[
        "status"
    ] == "cancelado"
    assert (await core_client.post(URL, json=body(inv), headers=t.user_headers)).status_code == 201


async def test_list_filters_and_pagination(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=3, clientes=2)
    h = t.user_headers
    ids = []
    for i, placa in enumerate(inv.placa_ids):
        r = await core_client.post(URL, json=body(inv, placa=i, clienteId=inv.cliente_ids[i % 2]), headers=h)
        ids.append(r.json()["id"])
    feb = {"inicio": "2026-02-01T00:00:00-03:00", "fim": "2026-03-01T00:00:00-03:00"}
    r = await core_client.post(URL, json=body(inv, placa=0, **feb), headers=h)
    ids.append(r.json()["id"])
    await core_client.post(f"{URL}/{ids[1]}/cancel", headers=h)

    async def listed(**params):
        r = await core_client.get(URL, params=params, headers=h)
        assert r.status_code == 200, r.text
        return r.json()

    page = await listed()
    assert page["total"] == 4 and page["page"] == 1 and page["pageSize"] == 20
    assert {a["id"] for a in (await listed(placaId=inv.placa_ids[0]))["items"]} == {ids[0], ids[3]}
    assert {a["id"] for a in (await listed(clienteId=inv.cliente_ids[1]))["items"]} == {ids[1]}
    assert {a["id"] for a in (await listed(status="cancelado"))["items"]} == {ids[1]}
    assert (await listed(status="ativo"))["total"] == 3
    assert {a["id"] for a in (await listed(inicio="2026-02-15T00:00:00Z"))["items"]} == {ids[3]}
    assert (await listed(fim="2026-01-15T00:00:00Z"))["total"] == 3
    p1 = await listed(pageSize=3, sort="inicio")
    p2 = await listed(pageSize=3, page=2, sort="inicio")
    assert len(p1["items"]) == 3 and len(p2["items"]) == 1 and p2["items"][0]["id"] == ids[3]
    for bad in (
        {"pageSize": 1000},
        {"sort": "senha"},
        {"status": "qualquer"},
        {"inicio": "2026-01-01T00:00:00"},
    ):
        assert (await core_client.get(URL, params=bad, headers=h)).status_code == 400, bad


async def test_tenant_isolation(core_client, make_tenant, make_inventario, raw_db):
    a, b = await make_tenant("A"), await make_tenant("B")
    inv_a, inv_b = make_inventario(a), make_inventario(b)
    al = (await core_client.post(URL, json=body(inv_a), headers=a.user_headers)).json()
    assert (await core_client.get(URL, headers=b.user_headers)).json()["total"] == 0
    assert (await core_client.get(f"{URL}/{al['id']}", headers=b.user_headers)).status_code == 404
    assert (await core_client.post(f"{URL}/{al['id']}/cancel", headers=b.user_headers)).status_code == 404
    assert (await core_client.delete(f"{URL}/{al['id']}", headers=b.user_headers)).status_code == 404
    # B may not book A's placa, nor for A's cliente
    r = await core_client.post(URL, json=body(inv_b, placaId=inv_a.placa_ids[1]), headers=b.user_headers)
    assert r.status_code == 404
    r = await core_client.post(URL, json=body(inv_b, clienteId=inv_a.cliente_ids[0]), headers=b.user_headers)
    assert r.status_code == 404
    assert await stored(raw_db) == (1, 31)
    assert (await core_client.get(f"{URL}/{al['id']}", headers=a.user_headers)).json()["status"] == "ativo"


@pytest.mark.parametrize(
    "change",
    [
        {"inicio": "2026-01-01T00:00:00"},  # naive
        {"fim": "2026-02-30"},  # a day that does not exist (plain days are days in the empresa's zone)
        {"fim": "2025-12-31"},  # a day before inicio
        {"fim": "2026-01-01T00:00:00-03:00"},  # fim == inicio
        {"fim": "2025-12-01T00:00:00-03:00"},  # fim before inicio
        {"valorCentavos": -1},
        {"valorCentavos": "100"},
        {"valorCentavos": 10.5},
        {"valorCentavos": True},
        {"valorCentavos": None},
        {"extra": 1},  # unknown field
        {"placa_id_typo": "x"},
        {"inicio": "0001-01-01T00:00:00+14:00"},  # would overflow time-zone arithmetic
        {"fim": "9999-12-31T23:59:59-12:00"},
        {"fim": "2030-01-01T00:00:00-03:00"},  # longer than the maximum period
        {"inicio": "not a date"},
        {"placaId": 123},
        {"placaId": ""},
    ],
)
async def test_bad_input_is_400_and_stores_nothing(core_client, make_tenant, make_inventario, raw_db, change):
    t = await make_tenant()
    inv = make_inventario(t)
    r = await core_client.post(URL, json=body(inv, **change), headers=t.user_headers)
    assert r.status_code == 400, r.text
    assert r.json()["detail"]
    assert await stored(raw_db) == (0, 0)


@pytest.mark.parametrize("payload", [None, [], "texto", {"placaId": "x"}])
async def test_malformed_bodies_are_400(core_client, make_tenant, raw_db, payload):
    t = await make_tenant()
    if payload is None:
        r = await core_client.post(
            URL, content=b"{not json", headers={**t.user_headers, "Content-Type": "application/json"}
        )
    else:
        r = await core_client.post(URL, json=payload, headers=t.user_headers)
    assert r.status_code == 400, r.text
    assert await stored(raw_db) == (0, 0)


async def test_unknown_ids_are_404_and_inactive_placa_409(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=2, inativas=1)
    h = t.user_headers
    for change in (
        {"placaId": "nao-e-id"},
        {"placaId": "0" * 24},
        {"clienteId": "zz"},
        {"clienteId": "f" * 24},
    ):
        assert (await core_client.post(URL, json=body(inv, **change), headers=h)).status_code == 404, change
    assert (await core_client.post(URL, json=body(inv, placa=1), headers=h)).status_code == 409
    for path in ("nao-e-id", "0" * 24, "%00", "a" * 500):
        assert (await core_client.get(f"{URL}/{path}", headers=h)).status_code == 404, path
        assert (await core_client.post(f"{URL}/{path}/cancel", headers=h)).status_code == 404, path
    assert await stored(raw_db) == (0, 0)


async def test_requires_a_token(core_client):
    assert (await core_client.get(URL)).status_code == 401
    assert (await core_client.post(URL, json={})).status_code == 401
