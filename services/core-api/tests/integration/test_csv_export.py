"""Lists as CSV (`?format=csv` or `Accept: text/csv`): every row with the same filters and sort,
streamed, spreadsheet-safe; JSON pages unchanged; bad formats are 400."""

from __future__ import annotations

import csv
import io

import pytest
from beanie import PydanticObjectId
from core_api.domain.placas.models import Placa


def parse(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode()), "UTF-8 byte-order mark for spreadsheets"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def many_placas(in_app_loop, make_inventario):
    """An empresa with 250 placas (more than two pages of the 100-row export batches)."""

    def _make(tenant) -> list[str]:
        inv = make_inventario(tenant, placas=3)

        async def _more() -> None:
            eid = PydanticObjectId(tenant.empresa_id)
            regiao = PydanticObjectId(inv.regiao_ids[0])
            await Placa.insert_many(
                [
                    Placa(
                        empresa_id=eid,
                        numero=f"X{i:04d}",
                        regiao_id=regiao,
                        endereco=f"Rodovia {i}",
                        cidade="Campinas",
                        uf="SP",
                        valor_mensal_centavos=1000 + i,
                        ativa=i % 5 != 0,
                    )
                    for i in range(247)
                ]
            )

        in_app_loop(_more)
        return inv

    return _make


@pytest.mark.parametrize("how", ["query", "accept"])
async def test_whole_list_streams_as_csv_with_filters_and_sort(core_client, make_tenant, many_placas, how):
    t = await make_tenant()
    many_placas(t)
    params = {"cidade": "Campinas", "ativa": "true", "sort": "-numero", "pageSize": "5", "page": "3"}
    headers = dict(t.user_headers)
    if how == "query":
        params["format"] = "csv"
    else:
        headers["Accept"] = "text/csv"
    r = await core_client.get("/api/v1/placas", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="placas-')
    rows = parse(r.content)
    expected = sorted((f"X{i:04d}" for i in range(247) if i % 5 != 0), reverse=True)
    assert [row["numero"] for row in rows] == expected  # every page, filtered and sorted, not page 3 of 5
    assert int(r.headers["x-total-count"]) == len(expected) == 197
    assert {"id", "numero", "regiaoId", "valorMensalCentavos", "ativa", "createdAt"} <= set(rows[0])
    assert rows[0]["ativa"] == "true" and rows[0]["valorMensalCentavos"] == "1246"
    # the JSON page is unchanged by the export (and the export was not cached in its place)
    r = await core_client.get(
        "/api/v1/placas", params={k: v for k, v in params.items() if k != "format"}, headers=t.user_headers
    )
    assert r.headers["content-type"].startswith("application/json")
    assert [p["numero"] for p in r.json()["items"]] == expected[10:15]


async def test_alugueis_and_pis_export_and_formulas_stay_text(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    r = await core_client.patch(
        f"/api/v1/clientes/{inv.cliente_ids[0]}", json={"nome": '=HYPERLINK("x")'}, headers=t.user_headers
    )
    assert r.status_code == 200, r.text
    r = await core_client.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[0],
            "placaIds": inv.placa_ids,
            "inicio": "2031-05-01T00:00:00-03:00",
            "fim": "2031-06-01T00:00:00-03:00",
            "valorTotalCentavos": 300_000,
            "produto": '+Promo, "verão"',
        },
        headers=t.user_headers,
    )
    assert r.status_code == 201, r.text
    pis = parse((await core_client.get("/api/v1/pis?format=csv", headers=t.user_headers)).content)
    assert len(pis) == 1 and pis[0]["produto"] == '\'+Promo, "verão"'  # quoted, formula-neutralised
    assert pis[0]["placaIds"].startswith("[") and inv.placa_ids[0] in pis[0]["placaIds"]
    alugueis = parse((await core_client.get("/api/v1/alugueis?format=csv", headers=t.user_headers)).content)
    assert sorted(a["placaId"] for a in alugueis) == sorted(inv.placa_ids)
    clientes = parse((await core_client.get("/api/v1/clientes?format=csv", headers=t.user_headers)).content)
    assert clientes[0]["nome"] == '\'=HYPERLINK("x")'


async def test_export_is_scoped_to_the_empresa_and_errors_come_before_the_stream(
    core_client, make_tenant, many_placas
):
    t, other = await make_tenant(), await make_tenant("Outra")
    many_placas(t)
    rows = parse((await core_client.get("/api/v1/placas?format=csv", headers=other.user_headers)).content)
    assert rows == []
    r = await core_client.get("/api/v1/placas?format=csv&sort=segredo", headers=t.user_headers)
    assert r.status_code == 400 and "sort" in r.json()["detail"]
    r = await core_client.get("/api/v1/placas?format=xml", headers=t.user_headers)
    assert r.status_code == 400
    assert (await core_client.get("/api/v1/placas?format=csv")).status_code == 401
