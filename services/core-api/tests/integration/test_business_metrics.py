"""business_entities_created_total moves when a create succeeds, and only then (409s do not count)."""

from __future__ import annotations

from prometheus_client import REGISTRY

PLACA = {"endereco": "Av. Paulista, 1578"}


def created(entity: str) -> float:
    return REGISTRY.get_sample_value("business_entities_created_total", {"entity": entity}) or 0.0


async def test_created_regiao_placa_cliente_count_and_a_409_duplicate_does_not(core_client, make_tenant):
    h = (await make_tenant()).user_headers
    before = {e: created(e) for e in ("regiao", "placa", "cliente")}

    r = await core_client.post("/api/v1/regioes", json={"nome": "Centro"}, headers=h)
    assert r.status_code == 201, r.text
    regiao = r.json()["id"]
    r = await core_client.post(
        "/api/v1/placas", json={"numero": "M-1", "regiaoId": regiao, **PLACA}, headers=h
    )
    assert r.status_code == 201, r.text
    assert created("placa") == before["placa"] + 1
    assert created("regiao") == before["regiao"] + 1

    # the same numero again: 409, nothing written, nothing counted
    dup = await core_client.post(
        "/api/v1/placas", json={"numero": "M-1", "regiaoId": regiao, **PLACA}, headers=h
    )
    assert dup.status_code == 409, dup.text
    assert created("placa") == before["placa"] + 1
    # a refused create (unknown região) does not count either
    bad = await core_client.post(
        "/api/v1/placas", json={"numero": "M-2", "regiaoId": "0" * 24, **PLACA}, headers=h
    )
    assert bad.status_code in (400, 404, 422), bad.text
    assert created("placa") == before["placa"] + 1

    r = await core_client.post("/api/v1/clientes", json={"nome": "Ana"}, headers=h)
    assert r.status_code == 201, r.text
    assert created("cliente") == before["cliente"] + 1


async def test_a_pi_counts_one_pi_and_one_aluguel_per_placa_and_its_contrato_once(
    core_client, make_tenant, make_inventario
):
    t = await make_tenant()
    inv = make_inventario(t, placas=3)
    h = t.user_headers
    before = {e: created(e) for e in ("pi", "aluguel", "contrato")}
    body = {
        "clienteId": inv.cliente_ids[0],
        "placaIds": inv.placa_ids[:2],
        "inicio": "2032-03-01T00:00:00-03:00",
        "fim": "2032-04-01T00:00:00-03:00",
        "valorTotalCentavos": 250_000,
        "produto": "Lançamento",
    }
    r = await core_client.post("/api/v1/pis", json=body, headers=h)
    assert r.status_code == 201, r.text
    pi = r.json()["id"]
    assert created("pi") == before["pi"] + 1
    assert created("aluguel") == before["aluguel"] + 2

    # the same placas for the same period: 409, no PI, no aluguéis counted
    again = await core_client.post("/api/v1/pis", json=body, headers=h)
    assert again.status_code == 409, again.text
    assert created("pi") == before["pi"] + 1
    assert created("aluguel") == before["aluguel"] + 2

    # a standalone aluguel on the free placa
    r = await core_client.post(
        "/api/v1/alugueis",
        json={
            "placaId": inv.placa_ids[2],
            "clienteId": inv.cliente_ids[0],
            "inicio": "2032-03-01T00:00:00-03:00",
            "fim": "2032-04-01T00:00:00-03:00",
            "valorCentavos": 90_000,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert created("aluguel") == before["aluguel"] + 3

    r = await core_client.post("/api/v1/contratos", json={"piId": pi}, headers=h)
    assert r.status_code == 201, r.text
    second = await core_client.post("/api/v1/contratos", json={"piId": pi}, headers=h)
    assert second.status_code == 409, second.text
    assert created("contrato") == before["contrato"] + 1
