"""GET /api/v1/documentos: the generated PDFs of the empresa's PIs and contratos with download links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId
from core_api.domain.contratos.models import Contrato
from core_api.domain.pis.models import PI, DocumentoGerado

from .test_documentos import create_pi


def documento(n: int, when: datetime) -> DocumentoGerado:
    return DocumentoGerado(
        job_id=f"job-{n}",
        document_id=f"{n:024x}",
        filename=f"doc-{n}.pdf",
        sha256="ab" * 32,
        size_bytes=1000 + n,
        pages=1,
        gerado_em=when,
    )


async def test_documents_are_listed_newest_first_with_download_links(
    core_client, make_tenant, make_inventario, in_app_loop
):
    t, other = await make_tenant(), await make_tenant("Outra")
    inv = make_inventario(t, placas=2)
    pi = await create_pi(core_client, t, inv)
    contrato = (
        await core_client.post("/api/v1/contratos", json={"piId": pi["id"]}, headers=t.user_headers)
    ).json()
    base = datetime(2031, 1, 1, tzinfo=UTC)

    async def record() -> None:  # what the pdf.generated handler records, written directly here
        p = await PI.get(PydanticObjectId(pi["id"]))
        c = await Contrato.get(PydanticObjectId(contrato["id"]))
        assert p is not None and c is not None
        await p.set(
            {
                "documentos": [
                    documento(1, base).model_dump(),
                    documento(3, base + timedelta(hours=2)).model_dump(),
                ]
            }
        )
        await c.set({"documentos": [documento(2, base + timedelta(hours=1)).model_dump()]})

    in_app_loop(record)
    r = await core_client.get("/api/v1/documentos", headers=t.user_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 3
    assert [d["jobId"] for d in body["items"]] == ["job-3", "job-2", "job-1"]
    first = body["items"][0]
    assert first["tipo"] == "pi" and first["sourceId"] == pi["id"] and first["numero"] == pi["codigo"]
    assert first["downloadUrl"] == f"/api/v1/documents/{3:024x}"
    assert body["items"][1]["tipo"] == "contrato" and body["items"][1]["numero"] == contrato["codigo"]
    only = await core_client.get("/api/v1/documentos", params={"tipo": "contrato"}, headers=t.user_headers)
    assert [d["jobId"] for d in only.json()["items"]] == ["job-2"]
    paged = await core_client.get(
        "/api/v1/documentos", params={"pageSize": 2, "page": 2}, headers=t.user_headers
    )
    assert [d["jobId"] for d in paged.json()["items"]] == ["job-1"] and paged.json()["total"] == 3
    assert (await core_client.get("/api/v1/documentos", headers=other.user_headers)).json()["total"] == 0
    assert (
        await core_client.get("/api/v1/documentos", params={"tipo": "nota"}, headers=t.user_headers)
    ).status_code == 400
