"""PIs as the market uses them: per-placa values (pro rata list prices, a negotiated total spread by
price, or explicit items with discounts) that add up to the total, gapless PI-YYYY-NNNNNN numbers,
whole days, agência/material/payment terms, no `concluida` before the period ends; contratos signed
with the empresa's versioned clause set chosen by the payment terms."""

from __future__ import annotations

from datetime import datetime

import pytest
from beanie import PydanticObjectId
from shared.documents.snapshot import LOCAL_TZ

from .test_documentos import pdf_text

YEAR = datetime.now(LOCAL_TZ).year
PIS = "/api/v1/pis"


def pi_body(inv, **over) -> dict:
    return {
        "clienteId": inv.cliente_ids[0],
        "placaIds": inv.placa_ids[:2],
        "inicio": "2031-03-01",
        "fim": "2031-03-15",
        "produto": "Campanha",
        **over,
    }


async def set_price(core_client, t, placa_id: str, valor: int) -> None:
    r = await core_client.patch(
        f"/api/v1/placas/{placa_id}", json={"valorMensalCentavos": valor}, headers=t.user_headers
    )
    assert r.status_code == 200, r.text


async def test_items_default_to_the_list_price_pro_rata_and_days_are_days(
    core_client, make_tenant, make_inventario
):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)  # 150.000 a month each
    r = await core_client.post(PIS, json=pi_body(inv), headers=t.user_headers)
    assert r.status_code == 201, r.text
    pi = r.json()
    assert (pi["diaInicio"], pi["diaFim"]) == ("2031-03-01", "2031-03-15")  # fim as a day is included
    assert [i["valorCentavos"] for i in pi["itens"]] == [75_000, 75_000]  # 15 of 30 days
    assert pi["valorTotalCentavos"] == 150_000
    assert pi["codigo"] == f"PI-{YEAR}-000001" and pi["numero"] == 1
    alugueis = (
        await core_client.get("/api/v1/alugueis", params={"piId": pi["id"]}, headers=t.user_headers)
    ).json()
    assert sorted(a["valorCentavos"] for a in alugueis["items"]) == [75_000, 75_000]


async def test_a_negotiated_total_is_spread_by_list_price_not_evenly(
    core_client, make_tenant, make_inventario
):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    await set_price(core_client, t, inv.placa_ids[0], 100_000)
    await set_price(core_client, t, inv.placa_ids[1], 300_000)
    r = await core_client.post(
        PIS, json=pi_body(inv, fim="2031-03-30", valorTotalCentavos=200_001), headers=t.user_headers
    )
    assert r.status_code == 201, r.text
    itens = r.json()["itens"]
    assert [i["valorCentavos"] for i in itens] == [50_000, 150_001]
    assert sum(i["liquidoCentavos"] for i in itens) == r.json()["valorTotalCentavos"] == 200_001


async def test_explicit_items_with_discounts_and_payment_terms(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    body = pi_body(
        inv,
        placaIds=None,
        itens=[
            {"placaId": inv.placa_ids[0], "valorCentavos": 220_000, "descontoCentavos": 20_000},
            {"placaId": inv.placa_ids[1]},  # list price pro rata: 75.000
        ],
        agencia={"nome": "Agência Maré", "documento": "45.723.174/0001-10"},
        material="lona",
        producaoMaterial="contratante",
        materialEntregaAte="2031-02-20",
        autorizadoPor="Maria Souza",
        autorizadoEm="2031-02-10",
        pagamento={
            "forma": "parcelado",
            "meio": "boleto",
            "parcelas": [
                {"vencimento": "2031-03-10", "valorCentavos": 137_500},
                {"vencimento": "2031-04-10", "valorCentavos": 137_500},
            ],
        },
    )
    body.pop("placaIds")
    r = await core_client.post(PIS, json=body, headers=t.user_headers)
    assert r.status_code == 201, r.text
    pi = r.json()
    assert pi["valorTotalCentavos"] == 275_000 and pi["agencia"]["comissaoBp"] == 2000
    assert pi["pagamento"]["forma"] == "parcelado" and pi["materialEntregaAte"] == "2031-02-20"
    r = await core_client.get(f"{PIS}/{pi['id']}/pdf", headers=t.user_headers)
    assert r.status_code == 200, r.text
    text = pdf_text(r.content)
    for expected in (
        "R$ 2.200,00",
        "R$ 200,00",
        "R$ 2.000,00",
        "R$ 750,00",
        "R$ 2.750,00",
        "Agência Maré",
        "Comissão da agência (20%) R$ 550,00",
        "Lona",
        "Autorizado por Maria Souza",
        pi["codigo"],
    ):
        assert expected in text, (expected, text[:400])


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"itens": [{"placaId": "x"}]}, "either as placaIds or as itens"),
        (
            {"placaIds": None, "itens": [{"placaId": "P", "valorCentavos": 10, "descontoCentavos": 11}]},
            "exceed",
        ),
        ({"valorTotalCentavos": 1, "placaIds": None, "itens": "ITENS"}, "add up to"),
        (
            {
                "pagamento": {
                    "forma": "avista",
                    "parcelas": [{"vencimento": "2031-03-01", "valorCentavos": 1}],
                }
            },
            "parcelas add up",
        ),
        ({"pagamento": {"forma": "avista", "parcelas": []}}, "parcelas"),
        ({"fim": "2031-02-30"}, "calendar day"),
        ({"agencia": {"nome": "A", "comissaoBp": 20000}}, "comissaoBp"),
    ],
)
async def test_inconsistent_pis_are_400_and_book_nothing(
    core_client, make_tenant, make_inventario, raw_db, over, message
):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    body = pi_body(inv, **over)
    if body.get("itens") == "ITENS":
        body["itens"] = [{"placaId": p, "valorCentavos": 100} for p in inv.placa_ids[:2]]
    if body.get("itens") and body["itens"][0]["placaId"] == "P":
        body["itens"][0]["placaId"] = inv.placa_ids[0]
    body = {k: v for k, v in body.items() if v is not None}
    r = await core_client.post(PIS, json=body, headers=t.user_headers)
    assert r.status_code == 400, r.text
    assert message in r.text
    assert await raw_db["pis"].count_documents({"empresa_id": {"$exists": True}, "status": {"$ne": "x"}}) == 0


async def test_twenty_concurrent_pis_get_twenty_gapless_numbers(
    core_client, make_tenant, make_inventario, concurrently
):
    t = await make_tenant()
    inv = make_inventario(t, placas=20)
    calls = [("POST", PIS, pi_body(inv, placaIds=[p]), t.user_headers) for p in inv.placa_ids]
    responses = concurrently(calls)
    assert [r.status_code for r in responses] == [201] * 20, [
        r.text for r in responses if r.status_code != 201
    ]
    numeros = sorted(r.json()["numero"] for r in responses)
    assert numeros == list(range(1, 21))
    assert {r.json()["codigo"] for r in responses} == {f"PI-{YEAR}-{n:06d}" for n in range(1, 21)}


async def test_a_failed_booking_takes_no_number(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    assert (
        await core_client.post(PIS, json=pi_body(inv, placaIds=inv.placa_ids), headers=t.user_headers)
    ).status_code == 201
    r = await core_client.post(PIS, json=pi_body(inv, placaIds=inv.placa_ids), headers=t.user_headers)
    assert r.status_code == 409
    inv2 = make_inventario(t, placas=1)
    r = await core_client.post(PIS, json=pi_body(inv2, placaIds=inv2.placa_ids), headers=t.user_headers)
    assert r.json()["numero"] == 2  # no gap left by the 409


async def test_concluida_only_once_the_period_is_over(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    futuro = (
        await core_client.post(PIS, json=pi_body(inv, placaIds=inv.placa_ids[:1]), headers=t.user_headers)
    ).json()
    r = await core_client.patch(f"{PIS}/{futuro['id']}", json={"status": "concluida"}, headers=t.user_headers)
    assert r.status_code == 409 and "period is over" in r.json()["detail"]
    passado = await core_client.post(
        PIS,
        json=pi_body(inv, placaIds=inv.placa_ids[1:], inicio="2020-01-01", fim="2020-01-31"),
        headers=t.user_headers,
    )
    assert passado.status_code == 201 and passado.json()["status"] == "vencida"
    r = await core_client.patch(
        f"{PIS}/{passado.json()['id']}", json={"status": "concluida"}, headers=t.user_headers
    )
    assert r.status_code == 200 and r.json()["status"] == "concluida"


async def test_contratos_are_signed_with_the_clause_set_of_their_day(
    core_client, make_tenant, make_inventario
):
    t = await make_tenant()
    inv = make_inventario(t, placas=3)
    avista = (
        await core_client.post(PIS, json=pi_body(inv, placaIds=inv.placa_ids[:1]), headers=t.user_headers)
    ).json()
    c1 = await core_client.post("/api/v1/contratos", json={"piId": avista["id"]}, headers=t.user_headers)
    assert c1.status_code == 201, c1.text
    c1 = c1.json()
    titulos = [c["titulo"] for c in c1["clausulas"]]
    rescisao = next(c["texto"] for c in c1["clausulas"] if c["titulo"] == "Da rescisão")
    assert "período restante" in rescisao and titulos[-1] == "Do foro"
    assert c1["clausulasVersao"].startswith("padrao-")

    # the empresa writes its own set; a bad placeholder is refused, a user may not write it
    own = {
        "clausulas": [
            {"titulo": "Do objeto", "texto": "Locação no valor de {valor_total}."},
            {"titulo": "Das parcelas", "texto": "Pagamento {pagamento}.", "quando": "parcelado"},
        ]
    }
    r = await core_client.put("/api/v1/empresa/clausulas", json=own, headers=t.user_headers)
    assert r.status_code == 403
    r = await core_client.put(
        "/api/v1/empresa/clausulas",
        json={"clausulas": [{"titulo": "X", "texto": "{segredo}"}]},
        headers=t.admin_headers,
    )
    assert r.status_code == 400 and "{segredo}" in r.text
    r = await core_client.put("/api/v1/empresa/clausulas", json=own, headers=t.admin_headers)
    assert r.status_code == 200 and r.json()["versao"] == "empresa-v1"

    parcelado = {
        "forma": "parcelado",
        "parcelas": [
            {"vencimento": "2031-03-05", "valorCentavos": 37_500},
            {"vencimento": "2031-04-05", "valorCentavos": 37_500},
        ],
    }
    pi2 = (
        await core_client.post(PIS, json=pi_body(inv, placaIds=inv.placa_ids[1:2]), headers=t.user_headers)
    ).json()
    c2 = await core_client.post(
        "/api/v1/contratos", json={"piId": pi2["id"], "pagamento": parcelado}, headers=t.user_headers
    )
    assert c2.status_code == 201, c2.text
    c2 = c2.json()
    assert c2["clausulasVersao"] == "empresa-v1"
    assert [c["titulo"] for c in c2["clausulas"]] == ["Do objeto", "Das parcelas", "Do foro"]
    assert c2["clausulas"][0]["texto"] == "Locação no valor de R$ 750,00."
    # the first contrato still prints what it was signed with
    text1 = pdf_text(
        (await core_client.get(f"/api/v1/contratos/{c1['id']}/pdf", headers=t.user_headers)).content
    )
    text2 = pdf_text(
        (await core_client.get(f"/api/v1/contratos/{c2['id']}/pdf", headers=t.user_headers)).content
    )
    assert "DA RESCISÃO" in text1 and "DAS PARCELAS" not in text1
    assert "Locação no valor de R$ 750,00." in text2 and "DA RESCISÃO" not in text2
    assert "versão empresa-v1" in text2
    bad = {"forma": "avista", "parcelas": [{"vencimento": "2031-03-05", "valorCentavos": 1}]}
    pi3 = (
        await core_client.post(PIS, json=pi_body(inv, placaIds=inv.placa_ids[2:]), headers=t.user_headers)
    ).json()
    r = await core_client.post(
        "/api/v1/contratos", json={"piId": pi3["id"], "pagamento": bad}, headers=t.user_headers
    )
    assert r.status_code == 400 and "add up" in r.text


async def test_a_new_value_rescales_items_and_parcelas_so_the_pdf_still_adds_up(
    core_client, make_tenant, make_inventario
):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    parcelas = [
        {"vencimento": "2031-03-10", "valorCentavos": 50_000},
        {"vencimento": "2031-04-10", "valorCentavos": 100_000},
    ]
    pi = await core_client.post(
        PIS, json=pi_body(inv, pagamento={"forma": "parcelado", "parcelas": parcelas}), headers=t.user_headers
    )
    assert pi.status_code == 201, pi.text
    r = await core_client.patch(
        f"{PIS}/{pi.json()['id']}", json={"valorTotalCentavos": 300_000}, headers=t.user_headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["valorCentavos"] for p in body["pagamento"]["parcelas"]] == [100_000, 200_000]
    assert sum(i["liquidoCentavos"] for i in body["itens"]) == 300_000
    r = await core_client.get(f"{PIS}/{body['id']}/pdf", headers=t.user_headers)
    assert r.status_code == 200, r.text
    assert "R$ 3.000,00" in pdf_text(r.content)


async def test_pis_and_contratos_are_searched_by_text(core_client, make_tenant, make_inventario):
    t, other = await make_tenant(), await make_tenant("Outra")
    inv = make_inventario(t, placas=2)
    a = (
        await core_client.post(
            PIS,
            json=pi_body(inv, placaIds=inv.placa_ids[:1], produto="Pão de Queijo"),
            headers=t.user_headers,
        )
    ).json()
    b = (
        await core_client.post(
            PIS,
            json=pi_body(inv, placaIds=inv.placa_ids[1:], produto="Café (especial)"),
            headers=t.user_headers,
        )
    ).json()
    c = (await core_client.post("/api/v1/contratos", json={"piId": b["id"]}, headers=t.user_headers)).json()

    async def ids(path: str, q: str, who=t) -> list[str]:
        r = await core_client.get(path, params={"q": q}, headers=who.user_headers)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await ids(PIS, "queijo") == [a["id"]]
    assert await ids(PIS, a["codigo"]) == [a["id"]]
    assert await ids(PIS, "(especial)") == [b["id"]]  # the user's text is not a regex
    assert await ids(PIS, ".*") == []
    assert await ids("/api/v1/contratos", c["codigo"]) == [c["id"]]
    assert await ids("/api/v1/contratos", "café") == [c["id"]]
    assert await ids(PIS, "queijo", other) == []  # another empresa finds nothing


class _Crash(Exception):
    """The process dying at a chosen point of the numbering."""


def _crashing_numeracao(empresa_id, depois_de: str):
    from core_api.domain.pis.numeracao import NumeracaoPI

    class Crashing(NumeracaoPI):
        async def reservar(self, pi):
            if depois_de == "commit":
                raise _Crash  # dies after the booking committed, before reserving
            await super().reservar(pi)
            raise _Crash  # dies after reserving, before writing the number on the PI

    return Crashing(empresa_id)


async def _create_crashing(core_client, in_app_loop, t, body: dict, depois_de: str) -> str:
    """Create a PI through the real service, the process 'dying' at `depois_de`; the PI's id."""
    from core_api.domain.pis.schemas import PICreate
    from core_api.domain.pis.services import PIService
    from shared.auth import Principal

    async def go() -> str:
        service = PIService(
            Principal(user_id=t.user_id, empresa_id=t.empresa_id, role="user"), core_client.app.state
        )
        service.numeracao = _crashing_numeracao(service.empresa_id, depois_de)
        with pytest.raises(_Crash):
            await service.create(PICreate.model_validate(body))
        pis = await service.repo.find_many({"numero": None, "status": {"$ne": "pendente"}})
        assert len(pis) == 1
        return str(pis[0].id)

    return in_app_loop(go)


async def _recover(in_app_loop) -> int:
    from datetime import timedelta

    from core_api.domain.pis.numeracao import recuperar

    return in_app_loop(recuperar, timedelta(0))


@pytest.mark.parametrize("depois_de", ["reserva", "commit"])
async def test_a_crash_while_numbering_leaves_no_gap_and_no_duplicate(
    core_client, make_tenant, make_inventario, in_app_loop, raw_db, depois_de
):
    """Issue 15: a process dying between taking a number and saving the PI left an unnumbered PI
    (logged) — a gap. Now the number is reserved by a unique insert naming the PI, and the recovery
    completes it: the numbers stay 1..n, each on one PI."""
    t = await make_tenant()
    inv = make_inventario(t, placas=4)
    first = await core_client.post(
        PIS, json=pi_body(inv, placaIds=[inv.placa_ids[0]]), headers=t.user_headers
    )
    assert first.json()["numero"] == 1
    crashed = await _create_crashing(
        core_client, in_app_loop, t, pi_body(inv, placaIds=[inv.placa_ids[1]]), depois_de
    )
    reserved = await raw_db["pi_numeros"].find_one({"pi_id": PydanticObjectId(crashed)})
    if depois_de == "reserva":
        # the number is taken (reserved for the crashed PI) but not on it yet
        assert reserved["numero"] == 2 and reserved["gravado"] is False
    else:
        assert reserved is None
    # meanwhile another PI is numbered: never the reserved number
    third = await core_client.post(
        PIS, json=pi_body(inv, placaIds=[inv.placa_ids[2]]), headers=t.user_headers
    )
    assert third.status_code == 201
    assert third.json()["numero"] == (3 if depois_de == "reserva" else 2)

    assert await _recover(in_app_loop) == 1
    recovered = (await core_client.get(f"{PIS}/{crashed}", headers=t.user_headers)).json()
    assert recovered["numero"] == (2 if depois_de == "reserva" else 3)
    assert recovered["codigo"] == f"PI-{YEAR}-{recovered['numero']:06d}"
    assert await _recover(in_app_loop) == 0  # idempotent
    fourth = await core_client.post(
        PIS, json=pi_body(inv, placaIds=[inv.placa_ids[3]]), headers=t.user_headers
    )
    listed = (await core_client.get(PIS, headers=t.user_headers)).json()["items"]
    assert sorted(p["numero"] for p in listed) == [1, 2, 3, 4] and fourth.json()["numero"] == 4
    stored = await raw_db["pi_numeros"].find({"empresa_id": PydanticObjectId(t.empresa_id)}).to_list()
    assert sorted(r["numero"] for r in stored) == [1, 2, 3, 4] and all(r["gravado"] for r in stored)


async def test_pis_from_before_numbering_are_left_alone_by_the_recovery(
    core_client, make_tenant, make_inventario, in_app_loop, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    pi = (await core_client.post(PIS, json=pi_body(inv), headers=t.user_headers)).json()
    # what a PI made before numbering existed looks like: no number, no `numerar`
    await raw_db["pis"].update_one(
        {"_id": PydanticObjectId(pi["id"])},
        {"$unset": {"numerar": "", "numero": "", "codigo": "", "ano": ""}},
    )
    await _recover(in_app_loop)
    assert (await core_client.get(f"{PIS}/{pi['id']}", headers=t.user_headers)).json()["codigo"] is None
