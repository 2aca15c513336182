"""/api/v1/pis: all-or-nothing booking, status workflow, cancel, isolation, bad input, snapshot."""

from __future__ import annotations

import pytest
from beanie import PydanticObjectId
from core_api.domain.documentos.snapshots import document_snapshot
from core_api.domain.empresas.models import Empresa
from core_api.domain.pis.models import PI

URL = "/api/v1/pis"
# far enough in the future that these PIs are not `vencida` while the tests run
MAR = {"inicio": "2031-03-01T00:00:00-03:00", "fim": "2031-04-01T00:00:00-03:00"}


def pi_body(inv, placas=(0, 1, 2), **over):
    return {
        "clienteId": inv.cliente_ids[0],
        "placaIds": [inv.placa_ids[i] for i in placas if i < len(inv.placa_ids)],
        **MAR,
        "valorTotalCentavos": 1_000_000,
        "produto": "Campanha de verão",
        **over,
    }


async def counts(raw_db) -> tuple[int, int, int]:
    return (
        await raw_db["pis"].count_documents({}),
        await raw_db["alugueis"].count_documents({}),
        await raw_db["placa_ocupacoes"].count_documents({}),
    )


async def test_create_books_every_placa(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=3)
    r = await core_client.post(
        URL, json=pi_body(inv, valorTotalCentavos=1_000_000, descricao="3 placas"), headers=t.user_headers
    )
    assert r.status_code == 201, r.text
    pi = r.json()
    assert pi["status"] == "em_andamento" and pi["placaIds"] == inv.placa_ids and len(pi["aluguelIds"]) == 3
    assert (pi["diaInicio"], pi["diaFim"]) == ("2031-03-01", "2031-03-31") and pi["descricao"] == "3 placas"
    assert await counts(raw_db) == (1, 3, 3 * 31)
    alugueis = (
        await core_client.get("/api/v1/alugueis", params={"piId": pi["id"]}, headers=t.user_headers)
    ).json()
    assert alugueis["total"] == 3 and {a["status"] for a in alugueis["items"]} == {"ativo"}
    # exact money: 1_000_000 / 3 split to the cent
    assert sorted(a["valorCentavos"] for a in alugueis["items"]) == [333_333, 333_333, 333_334]
    assert (await core_client.get(f"{URL}/{pi['id']}", headers=t.user_headers)).json() == pi


async def test_one_placa_taken_books_none(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=3)
    h = t.user_headers
    # placa 2 (the middle of the request) is taken for one day in the middle of March
    r = await core_client.post(
        "/api/v1/alugueis",
        json={
            "placaId": inv.placa_ids[1],
            "clienteId": inv.cliente_ids[0],
            "inicio": "2031-03-15T00:00:00-03:00",
            "fim": "2031-03-16T00:00:00-03:00",
            "valorCentavos": 1,
        },
        headers=h,
    )
    assert r.status_code == 201
    before = await counts(raw_db)
    r = await core_client.post(URL, json=pi_body(inv), headers=h)
    assert r.status_code == 409, r.text
    assert inv.numeros[inv.placa_ids[1]] in r.json()["detail"]
    assert [c["id"] for c in r.json()["extra"]["conflicts"]] == [inv.placa_ids[1]]
    assert await counts(raw_db) == before == (0, 1, 1)
    booked = await raw_db["placa_ocupacoes"].distinct("placa_id")
    assert booked == [PydanticObjectId(inv.placa_ids[1])]
    # the other two are still bookable
    assert (await core_client.post(URL, json=pi_body(inv, placas=(0, 2)), headers=h)).status_code == 201


async def test_status_workflow(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    h = t.user_headers
    pi = (await core_client.post(URL, json=pi_body(inv, placas=(0,)), headers=h)).json()
    for bad in ("vencida", "em_andamento_x", "pendente"):
        r = await core_client.patch(f"{URL}/{pi['id']}", json={"status": bad}, headers=h)
        assert r.status_code in (400, 409), (bad, r.text)
    assert (
        await core_client.patch(f"{URL}/{pi['id']}", json={"status": "vencida"}, headers=h)
    ).status_code == 409
    # a running PI cannot be concluded before its period ends (issue 15); one whose period is over can
    r = await core_client.patch(f"{URL}/{pi['id']}", json={"status": "concluida"}, headers=h)
    assert r.status_code == 409 and "period is over" in r.json()["detail"]
    inv2 = make_inventario(t, placas=1)
    pi = (
        await core_client.post(
            URL,
            json={**pi_body(inv2, placas=(0,)), "inicio": "2020-01-01", "fim": "2020-01-31"},
            headers=h,
        )
    ).json()
    assert pi["status"] == "vencida"
    r = await core_client.patch(
        f"{URL}/{pi['id']}", json={"status": "concluida", "produto": "Novo"}, headers=h
    )
    assert r.status_code == 200 and r.json()["status"] == "concluida" and r.json()["produto"] == "Novo"
    assert r.json()["concluidaEm"]
    # concluded is final
    for target in ("cancelada", "em_andamento"):
        r = await core_client.patch(f"{URL}/{pi['id']}", json={"status": target}, headers=h)
        assert r.status_code == 409, r.text
    assert (await core_client.post(f"{URL}/{pi['id']}/cancel", headers=h)).status_code == 409
    # a concluded PI keeps its placa booked (January 2020, 31 days)
    assert await raw_db["placa_ocupacoes"].count_documents({"reserva_id": PydanticObjectId(pi["id"])}) == 31

    other = (await core_client.post(URL, json=pi_body(inv, placas=(1,)), headers=h)).json()
    r = await core_client.patch(f"{URL}/{other['id']}", json={"status": "cancelada"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelada"
    assert (
        await raw_db["placa_ocupacoes"].count_documents({"placa_id": PydanticObjectId(inv.placa_ids[1])}) == 0
    )
    aluguel = (await core_client.get(f"/api/v1/alugueis/{other['aluguelIds'][0]}", headers=h)).json()
    assert aluguel["status"] == "cancelado"
    # cancelled: nothing changes any more
    assert (
        await core_client.patch(f"{URL}/{other['id']}", json={"produto": "x"}, headers=h)
    ).status_code == 409
    assert (
        await core_client.patch(f"{URL}/{other['id']}", json={"status": "concluida"}, headers=h)
    ).status_code == 409
    assert (await core_client.post(f"{URL}/{other['id']}/cancel", headers=h)).status_code == 409
    # and the placa is free again
    assert (await core_client.post(URL, json=pi_body(inv, placas=(1,)), headers=h)).status_code == 201


async def test_cancel_route_and_aluguel_of_pi_is_cancelled_through_the_pi(
    core_client, make_tenant, make_inventario, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    h = t.user_headers
    pi = (await core_client.post(URL, json=pi_body(inv, placas=(0, 1)), headers=h)).json()
    r = await core_client.post(f"/api/v1/alugueis/{pi['aluguelIds'][0]}/cancel", headers=h)
    assert r.status_code == 409 and pi["id"] in r.json()["detail"]
    r = await core_client.post(f"{URL}/{pi['id']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelada" and r.json()["canceladaEm"]
    assert await raw_db["placa_ocupacoes"].count_documents({}) == 0
    assert await raw_db["alugueis"].count_documents({"status": "cancelado"}) == 2


async def test_field_updates_and_value_resplit(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    h = t.user_headers
    pi = (await core_client.post(URL, json=pi_body(inv, placas=(0, 1)), headers=h)).json()
    r = await core_client.patch(
        f"{URL}/{pi['id']}", json={"valorTotalCentavos": 101, "descricao": None, "produto": "P2"}, headers=h
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["valorTotalCentavos"] == 101
        and r.json()["produto"] == "P2"
        and r.json()["descricao"] is None
    )
    items = (await core_client.get("/api/v1/alugueis", params={"piId": pi["id"]}, headers=h)).json()["items"]
    assert sorted(a["valorCentavos"] for a in items) == [50, 51]
    for bad in (
        {},
        {"produto": None},
        {"status": None},
        {"valorTotalCentavos": -5},
        {"placaIds": []},
        {"inicio": MAR["inicio"]},
        {"produto": ""},
        {"status": "feita"},
    ):
        r = await core_client.patch(f"{URL}/{pi['id']}", json=bad, headers=h)
        assert r.status_code == 400, (bad, r.text)
    assert (await core_client.get(f"{URL}/{pi['id']}", headers=h)).json()["produto"] == "P2"


async def test_vencida_is_computed_and_filterable(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    h = t.user_headers
    past = (
        await core_client.post(
            URL,
            json=pi_body(
                inv, placas=(0,), inicio="2024-01-01T00:00:00-03:00", fim="2024-02-01T00:00:00-03:00"
            ),
            headers=h,
        )
    ).json()
    assert past["status"] == "vencida"
    current = (
        await core_client.post(
            URL, json=pi_body(inv, placas=(1,), fim="2032-01-01T00:00:00-03:00"), headers=h
        )
    ).json()
    assert current["status"] == "em_andamento"
    assert [
        p["id"] for p in (await core_client.get(URL, params={"status": "vencida"}, headers=h)).json()["items"]
    ] == [past["id"]]
    assert [
        p["id"]
        for p in (await core_client.get(URL, params={"status": "em_andamento"}, headers=h)).json()["items"]
    ] == [current["id"]]
    # vencida → concluida is allowed
    r = await core_client.patch(f"{URL}/{past['id']}", json={"status": "concluida"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "concluida"


async def test_list_filters(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=3, clientes=2)
    h = t.user_headers
    a = (await core_client.post(URL, json=pi_body(inv, placas=(0, 1)), headers=h)).json()
    b = (
        await core_client.post(URL, json=pi_body(inv, placas=(2,), clienteId=inv.cliente_ids[1]), headers=h)
    ).json()
    c = (
        await core_client.post(
            URL,
            json=pi_body(
                inv, placas=(0,), inicio="2031-06-01T00:00:00-03:00", fim="2031-07-01T00:00:00-03:00"
            ),
            headers=h,
        )
    ).json()

    async def ids(**params):
        r = await core_client.get(URL, params=params, headers=h)
        assert r.status_code == 200, r.text
        return {p["id"] for p in r.json()["items"]}

    assert await ids() == {a["id"], b["id"], c["id"]}
    assert await ids(clienteId=inv.cliente_ids[1]) == {b["id"]}
    assert await ids(placaId=inv.placa_ids[0]) == {a["id"], c["id"]}
    assert await ids(inicio="2031-05-15T00:00:00Z") == {c["id"]}
    assert await ids(inicio="2031-03-10T00:00:00Z", fim="2031-03-11T00:00:00Z") == {a["id"], b["id"]}
    r = await core_client.get(URL, params={"pageSize": 2, "sort": "-inicio"}, headers=h)
    assert r.json()["total"] == 3 and r.json()["items"][0]["id"] == c["id"]


async def test_tenant_isolation(core_client, make_tenant, make_inventario, raw_db):
    a, b = await make_tenant("A"), await make_tenant("B")
    inv_a, inv_b = make_inventario(a, placas=2), make_inventario(b, placas=2)
    pi = (await core_client.post(URL, json=pi_body(inv_a, placas=(0,)), headers=a.user_headers)).json()
    assert (await core_client.get(URL, headers=b.user_headers)).json()["total"] == 0
    assert (await core_client.get(f"{URL}/{pi['id']}", headers=b.user_headers)).status_code == 404
    assert (
        await core_client.patch(f"{URL}/{pi['id']}", json={"status": "cancelada"}, headers=b.user_headers)
    ).status_code == 404
    assert (await core_client.post(f"{URL}/{pi['id']}/cancel", headers=b.user_headers)).status_code == 404
    before = await counts(raw_db)
    # B's PI naming one of A's placas (next to B's own) or A's cliente books nothing
    mixed = {"placaIds": [inv_b.placa_ids[0], inv_a.placa_ids[1]]}
    r = await core_client.post(URL, json=pi_body(inv_b, **mixed), headers=b.user_headers)
    assert r.status_code == 404 and inv_a.placa_ids[1] in r.json()["detail"]
    r = await core_client.post(
        URL, json=pi_body(inv_b, placas=(0,), clienteId=inv_a.cliente_ids[0]), headers=b.user_headers
    )
    assert r.status_code == 404
    assert await counts(raw_db) == before
    assert (await core_client.get(f"{URL}/{pi['id']}", headers=a.user_headers)).json()[
        "status"
    ] == "em_andamento"


@pytest.mark.parametrize(
    "change",
    [
        {"placaIds": []},
        {"placaIds": "abc"},
        {"placaIds": [None]},
        {"inicio": "2031-03-01T00:00:00"},
        {"fim": "2031-02-01T00:00:00-03:00"},
        {"valorTotalCentavos": -1},
        {"valorTotalCentavos": 1.5},
        {"valorTotalCentavos": "1"},
        {"produto": ""},
        {"produto": "x" * 201},
        {"descricao": "x" * 2001},
        {"status": "concluida"},  # not settable on create
        {"numero": 1},
        {"fim": "2034-01-01T00:00:00-03:00"},  # > 731 days
    ],
)
async def test_bad_input_is_400_and_stores_nothing(core_client, make_tenant, make_inventario, raw_db, change):
    t = await make_tenant()
    inv = make_inventario(t, placas=3)
    r = await core_client.post(URL, json=pi_body(inv, **change), headers=t.user_headers)
    assert r.status_code == 400, r.text
    assert await counts(raw_db) == (0, 0, 0)


async def test_repeated_placa_and_bad_ids(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=2, inativas=1)
    h = t.user_headers
    r = await core_client.post(URL, json=pi_body(inv, placas=(0, 0)), headers=h)
    assert r.status_code == 400
    r = await core_client.post(URL, json=pi_body(inv, placaIds=[inv.placa_ids[0], "nao-e-id"]), headers=h)
    assert r.status_code == 404 and "nao-e-id" in r.json()["detail"]
    r = await core_client.post(URL, json=pi_body(inv, placaIds=[inv.placa_ids[0], "0" * 24]), headers=h)
    assert r.status_code == 404
    assert (
        await core_client.post(URL, json=pi_body(inv, placas=(0, 1)), headers=h)
    ).status_code == 409  # inactive
    for path in ("nao-e-id", "0" * 24):
        assert (await core_client.get(f"{URL}/{path}", headers=h)).status_code == 404
        assert (await core_client.patch(f"{URL}/{path}", json={"produto": "x"}, headers=h)).status_code == 404
    assert await counts(raw_db) == (0, 0, 0)


async def test_pi_snapshot_has_what_a_pdf_needs(core_client, make_tenant, make_inventario, in_app_loop):
    t = await make_tenant()
    inv = make_inventario(t, placas=2, regioes=2)
    pi = (
        await core_client.post(
            URL, json=pi_body(inv, placas=(1, 0), valorTotalCentavos=123_457), headers=t.user_headers
        )
    ).json()

    async def snap():
        empresa = await Empresa.get(PydanticObjectId(t.empresa_id))
        doc = await PI.get(PydanticObjectId(pi["id"]))
        return empresa, await document_snapshot(core_client.app.state, empresa, doc)

    empresa, s = in_app_loop(snap)
    assert (s.kind, s.source_id, s.numero) == ("pi", pi["id"], pi["codigo"])
    assert s.empresa.nome == empresa.nome and s.empresa.id == t.empresa_id
    assert s.cliente.nome.startswith("Cliente 1") and s.cliente.documento
    assert (s.periodo.inicio.isoformat(), s.periodo.fim.isoformat()) == ("2031-03-01", "2031-03-31")
    assert s.valor_total_centavos == 123_457 and s.produto == "Campanha de verão"
    assert [p.id for p in s.placas] == [inv.placa_ids[1], inv.placa_ids[0]]
    assert {p.numero for p in s.placas} == set(inv.numeros.values())
    assert all(p.endereco and p.regiao.startswith("Região") for p in s.placas)
    assert sum(p.valor_centavos or 0 for p in s.placas) == 123_457
    assert s.pi_numero is None and s.clausulas_contrato is None


async def test_draft_approved_signed_flow(core_client, make_tenant, make_inventario, raw_db):
    """Issue 15: rascunho → aprovada (an admin) → assinada, each with who and when; the contrato only
    from an approved PI; the value fixed once approved (reopening as rascunho frees it again)."""
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    draft = await core_client.post(
        URL, json=pi_body(inv, placas=(0,), status="rascunho"), headers=t.user_headers
    )
    assert draft.status_code == 201, draft.text
    pi = draft.json()
    assert pi["status"] == "rascunho" and pi["codigo"] and pi["aprovadaEm"] is None
    # a draft holds its placa like any PI
    assert await raw_db["placa_ocupacoes"].count_documents({"reserva_id": PydanticObjectId(pi["id"])}) == 31
    listed = await core_client.get(URL, params={"status": "rascunho"}, headers=t.user_headers)
    assert [p["id"] for p in listed.json()["items"]] == [pi["id"]]

    url = f"{URL}/{pi['id']}"
    r = await core_client.post("/api/v1/contratos", json={"piId": pi["id"]}, headers=t.user_headers)
    assert r.status_code == 409 and "approve" in r.json()["detail"], r.text
    r = await core_client.patch(url, json={"status": "assinada"}, headers=t.user_headers)
    assert r.status_code == 409, r.text  # not approved yet
    r = await core_client.patch(url, json={"status": "aprovada"}, headers=t.user_headers)
    assert r.status_code == 403 and "admin" in r.json()["detail"], r.text
    assert (await core_client.get(url, headers=t.user_headers)).json()["status"] == "rascunho"

    r = await core_client.patch(url, json={"status": "aprovada"}, headers=t.admin_headers)
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "aprovada" and approved["aprovadaPor"] == t.admin_id
    assert approved["aprovadaEm"]
    r = await core_client.patch(url, json={"valorTotalCentavos": 5}, headers=t.admin_headers)
    assert r.status_code == 409 and "rascunho" in r.json()["detail"], r.text

    # reopened by an admin: the approval goes, the value can change; approved again
    r = await core_client.patch(url, json={"status": "rascunho"}, headers=t.admin_headers)
    assert r.status_code == 200 and r.json()["aprovadaPor"] is None, r.text
    r = await core_client.patch(url, json={"valorTotalCentavos": 900_000}, headers=t.user_headers)
    assert r.status_code == 200 and r.json()["valorTotalCentavos"] == 900_000, r.text
    assert (
        await core_client.patch(url, json={"status": "aprovada"}, headers=t.admin_headers)
    ).status_code == 200

    r = await core_client.patch(url, json={"status": "assinada"}, headers=t.user_headers)
    assert r.status_code == 200, r.text
    signed = r.json()
    assert signed["status"] == "assinada" and signed["assinadaPor"] == t.user_id and signed["assinadaEm"]
    assert [(h["de"], h["para"], h["por"]) for h in signed["historico"]] == [
        ("rascunho", "aprovada", t.admin_id),
        ("aprovada", "rascunho", t.admin_id),
        ("rascunho", "aprovada", t.admin_id),
        ("aprovada", "assinada", t.user_id),
    ]
    r = await core_client.post("/api/v1/contratos", json={"piId": pi["id"]}, headers=t.user_headers)
    assert r.status_code == 201, r.text
    assert r.json()["valorTotalCentavos"] == 900_000
    stored = await raw_db["pis"].find_one({"_id": PydanticObjectId(pi["id"])})
    assert stored["status"] == "assinada" and stored["assinada_por"] == t.user_id


async def test_pis_outside_the_flow_work_as_before(core_client, make_tenant, make_inventario):
    """A PI created without `status` is em_andamento at once and makes its contrato directly."""
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    pi = (await core_client.post(URL, json=pi_body(inv, placas=(0,)), headers=t.user_headers)).json()
    assert pi["status"] == "em_andamento" and pi["historico"] == []
    r = await core_client.patch(f"{URL}/{pi['id']}", json={"status": "aprovada"}, headers=t.admin_headers)
    assert r.status_code == 409, r.text
    r = await core_client.post("/api/v1/contratos", json={"piId": pi["id"]}, headers=t.user_headers)
    assert r.status_code == 201, r.text
