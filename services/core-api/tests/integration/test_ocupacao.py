"""GET /api/v1/ocupacao: per placa, the runs of booked days with PI and cliente, clipped to the window."""

from __future__ import annotations

import pytest

URL = "/api/v1/ocupacao"


def day(d: str) -> str:
    return f"{d}T00:00:00-03:00"


async def book(core_client, t, inv, placa: int, inicio: str, fim_exclusivo: str, cliente: int = 0) -> dict:
    r = await core_client.post(
        "/api/v1/alugueis",
        json={
            "placaId": inv.placa_ids[placa],
            "clienteId": inv.cliente_ids[cliente],
            "inicio": day(inicio),
            "fim": day(fim_exclusivo),
            "valorCentavos": 100_000,
        },
        headers=t.user_headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
async def calendario(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=3, regioes=2, clientes=2)
    a1 = await book(core_client, t, inv, 0, "2031-03-01", "2031-03-11")  # 1..10 March
    cancelled = await book(core_client, t, inv, 2, "2031-03-01", "2031-03-31")
    r = await core_client.post(f"/api/v1/alugueis/{cancelled['id']}/cancel", headers=t.user_headers)
    assert r.status_code == 200, r.text
    r = await core_client.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[1],
            "placaIds": inv.placa_ids[:2],
            "inicio": day("2031-03-15"),
            "fim": day("2031-04-01"),
            "valorTotalCentavos": 500_000,
            "produto": "Campanha de outono",
        },
        headers=t.user_headers,
    )
    assert r.status_code == 201, r.text
    return t, inv, a1, r.json()


async def test_runs_are_clipped_to_the_window_with_pi_and_cliente(core_client, calendario):
    t, inv, a1, pi = calendario
    r = await core_client.get(
        URL, params={"inicio": "2031-03-05", "fim": "2031-03-20"}, headers=t.user_headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["inicio"], body["fim"], body["dias"], body["total"]) == ("2031-03-05", "2031-03-20", 16, 3)
    by_id = {p["placaId"]: p for p in body["items"]}
    p1, p2, p3 = (by_id[i] for i in inv.placa_ids)
    assert [(f["inicio"], f["fim"], f["dias"]) for f in p1["faixas"]] == [
        ("2031-03-05", "2031-03-10", 6),
        ("2031-03-15", "2031-03-20", 6),
    ]
    assert p1["faixas"][0]["aluguelId"] == a1["id"] and p1["faixas"][0]["piId"] is None
    assert p1["faixas"][1]["piId"] == pi["id"] and p1["faixas"][1]["cliente"].startswith("Cliente 2")
    assert p1["diasOcupados"] == 12 and p1["taxaOcupacao"] == pytest.approx(12 / 16, abs=1e-4)
    assert [(f["inicio"], f["fim"]) for f in p2["faixas"]] == [("2031-03-15", "2031-03-20")]
    assert p3["faixas"] == [] and p3["diasOcupados"] == 0  # its only aluguel was cancelled


async def test_filters_by_regiao_and_accepts_aware_datetimes(core_client, calendario):
    t, inv, _, _ = calendario
    r = await core_client.get("/api/v1/regioes", headers=t.user_headers)
    regiao = sorted(r.json()["items"], key=lambda x: x["nome"])[0]["id"]
    r = await core_client.get(
        URL,
        params={
            "inicio": "2031-03-01T10:00:00-03:00",
            "fim": "2031-03-31T23:00:00-03:00",
            "regiaoId": regiao,
        },
        headers=t.user_headers,
    )
    assert r.status_code == 200, r.text
    assert {p["regiaoId"] for p in r.json()["items"]} == {regiao}
    assert r.json()["total"] == 2  # placas 1 and 3 of 3, spread round-robin over two regiões


@pytest.mark.parametrize(
    "params",
    [
        {"inicio": "0.5", "fim": "2031-03-20"},
        {"inicio": "2031-03-01T00:00:00", "fim": "2031-03-20"},  # naive
        {"inicio": "2031-03-20", "fim": "2031-03-01"},
        {"inicio": "2031-01-01", "fim": "2032-12-31"},  # over a year
        {"inicio": "2031-02-30", "fim": "2031-03-20"},
        {"fim": "2031-03-20"},
        {"inicio": "2031-03-01", "fim": "2031-03-20", "sort": "valor"},
    ],
)
async def test_bad_windows_are_400(core_client, make_tenant, params):
    t = await make_tenant()
    r = await core_client.get(URL, params=params, headers=t.user_headers)
    assert r.status_code == 400, r.text
    assert r.json()["detail"]


async def test_another_empresa_sees_only_its_own(core_client, make_tenant, calendario):
    t, inv, _, _ = calendario
    other = await make_tenant("Outra")
    r = await core_client.get(
        URL, params={"inicio": "2031-03-01", "fim": "2031-03-31"}, headers=other.user_headers
    )
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 0
    regioes = (await core_client.get("/api/v1/regioes", headers=t.user_headers)).json()["items"]
    r = await core_client.get(
        URL,
        params={"inicio": "2031-03-01", "fim": "2031-03-31", "regiaoId": regioes[0]["id"]},
        headers=other.user_headers,
    )
    assert r.status_code == 404
    assert (
        await core_client.get(URL, params={"inicio": "2031-03-01", "fim": "2031-03-31"})
    ).status_code == 401
