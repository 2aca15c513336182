"""The empresa's profile (sede, contacts, legal representative, logo in GridFS) and the cliente's
representative: stored through the API and printed on the PI and contrato PDFs."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from pypdf import PdfReader

from .test_documentos import create_pi, pdf_text

PROFILE = {
    "cnpj": "11222333000181",
    "endereco": "Av. Agamenon Magalhães, 2000, sala 801",
    "cidade": "Recife",
    "uf": "pe",
    "telefone": "(81) 3333-4444",
    "email": "Comercial@Horizonte.com.br",
    "representante": {"nome": "Carlos Andrade", "cpf": "123.456.789-09", "cargo": "Diretor comercial"},
}


def png(size=(120, 60), color=(30, 58, 138)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


async def test_admin_sets_the_profile_and_everyone_reads_it(core_client, make_tenant):
    tenant = await make_tenant("Painéis Horizonte")
    r = await core_client.patch("/api/v1/empresa", json=PROFILE, headers=tenant.admin_headers)
    assert r.status_code == 200, r.text
    body = (await core_client.get("/api/v1/empresa", headers=tenant.user_headers)).json()
    assert body["cidade"] == "Recife" and body["uf"] == "PE" and body["email"] == "comercial@horizonte.com.br"
    assert body["representante"] == {
        "nome": "Carlos Andrade",
        "cpf": "12345678909",
        "cargo": "Diretor comercial",
    }
    assert body["logo"] is None
    # null clears an optional field; omitted fields stay
    r = await core_client.patch("/api/v1/empresa", json={"representante": None}, headers=tenant.admin_headers)
    assert r.json()["representante"] is None and r.json()["cidade"] == "Recife"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"representante": {"nome": "Ana", "cpf": "123.456.789-00"}}, "cpf"),
        ({"uf": "XX"}, "uf"),
        ({"representante": {"cpf": "12345678909"}}, "nome"),
        ({"email": "not-an-email"}, "email"),
        ({"cidade": ""}, "cidade"),
    ],
)
async def test_bad_profile_values_are_400_and_change_nothing(core_client, make_tenant, patch, field):
    tenant = await make_tenant()
    before = (await core_client.get("/api/v1/empresa", headers=tenant.admin_headers)).json()
    r = await core_client.patch("/api/v1/empresa", json=patch, headers=tenant.admin_headers)
    assert r.status_code == 400, r.text
    assert field in r.text
    assert (await core_client.get("/api/v1/empresa", headers=tenant.admin_headers)).json() == before


async def test_only_admins_change_the_profile_or_the_logo(core_client, make_tenant):
    tenant = await make_tenant()
    r = await core_client.patch("/api/v1/empresa", json={"cidade": "Olinda"}, headers=tenant.user_headers)
    assert r.status_code == 403
    r = await core_client.put(
        "/api/v1/empresa/logo", content=png(), headers={**tenant.user_headers, "content-type": "image/png"}
    )
    assert r.status_code == 403
    assert (await core_client.delete("/api/v1/empresa/logo", headers=tenant.user_headers)).status_code == 403


async def test_logo_is_stored_in_gridfs_replaced_and_scoped_to_the_empresa(core_client, make_tenant, raw_db):
    tenant, other = await make_tenant("Com logo"), await make_tenant("Sem logo")
    first, second = png(), png(color=(200, 30, 30))
    headers = {**tenant.admin_headers, "content-type": "image/png"}
    r = await core_client.put("/api/v1/empresa/logo", content=first, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["logo"]["contentType"] == "image/png" and r.json()["logo"]["length"] == len(first)
    got = await core_client.get("/api/v1/empresa/logo", headers=tenant.user_headers)
    assert got.status_code == 200 and got.content == first and got.headers["content-type"] == "image/png"
    # another empresa sees only its own (none)
    assert (await core_client.get("/api/v1/empresa/logo", headers=other.user_headers)).status_code == 404
    # a new upload replaces the old file (no orphan left in GridFS)
    r = await core_client.put("/api/v1/empresa/logo", content=second, headers=headers)
    assert r.status_code == 200
    assert (await core_client.get("/api/v1/empresa/logo", headers=tenant.user_headers)).content == second
    files = await raw_db["empresa_logos.files"].count_documents({"metadata.empresaId": tenant.empresa_id})
    assert files == 1
    assert (await core_client.delete("/api/v1/empresa/logo", headers=tenant.admin_headers)).status_code == 204
    assert (await core_client.get("/api/v1/empresa/logo", headers=tenant.user_headers)).status_code == 404
    assert await raw_db["empresa_logos.files"].count_documents({"metadata.empresaId": tenant.empresa_id}) == 0


@pytest.mark.parametrize(
    ("content_type", "body", "status", "message"),
    [
        ("text/plain", png(), 415, "image/png or image/jpeg"),
        ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415, "image/png"),
        ("image/jpeg", png(), 400, "not a JPEG"),
        ("image/png", b"\x89PNG\r\n\x1a\n" + os.urandom(200), 400, "cannot be decoded"),
        ("image/png", b"", 400, "empty"),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * (256 * 1024), 413, "limit"),
        ("image/png", png(size=(5000, 10)), 400, "4000 px"),
    ],
)
async def test_a_bad_logo_is_refused_and_changes_nothing(
    core_client, make_tenant, content_type, body, status, message
):
    tenant = await make_tenant()
    r = await core_client.put(
        "/api/v1/empresa/logo", content=body, headers={**tenant.admin_headers, "content-type": content_type}
    )
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
    assert (await core_client.get("/api/v1/empresa", headers=tenant.admin_headers)).json()["logo"] is None


async def test_pdfs_print_the_profile_the_representatives_and_the_logo(
    core_client, make_tenant, make_inventario
):
    tenant = await make_tenant("Painéis Horizonte")
    inv = make_inventario(tenant, placas=2)
    assert (
        await core_client.patch("/api/v1/empresa", json=PROFILE, headers=tenant.admin_headers)
    ).status_code == 200
    r = await core_client.patch(
        f"/api/v1/clientes/{inv.cliente_ids[0]}",
        json={"representante": {"nome": "Maria Souza", "cpf": "98765432100", "cargo": "Sócia"}},
        headers=tenant.user_headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["representante"]["cpf"] == "98765432100"
    r = await core_client.put(
        "/api/v1/empresa/logo", content=png(), headers={**tenant.admin_headers, "content-type": "image/png"}
    )
    assert r.status_code == 200
    pi = await create_pi(core_client, tenant, inv)
    contrato = await core_client.post(
        "/api/v1/contratos", json={"piId": pi["id"]}, headers=tenant.user_headers
    )
    assert contrato.status_code == 201, contrato.text
    for path in (f"/api/v1/pis/{pi['id']}/pdf", f"/api/v1/contratos/{contrato.json()['id']}/pdf"):
        r = await core_client.get(path, headers=tenant.user_headers)
        assert r.status_code == 200, r.text
        text = pdf_text(r.content)
        assert "CNPJ 11.222.333/0001-81" in text  # masked and labelled, stored as digits
        assert "CNPJ 11.222.333/0001-81" in text and "CPF/CNPJ" not in text
        assert "Carlos Andrade, Diretor comercial (CPF 123.456.789-09)" in text
        assert "Maria Souza, Sócia (CPF 987.654.321-00)" in text
        assert "Recife, " in text  # the place on the signature line
        assert any(page.images for page in PdfReader(io.BytesIO(r.content)).pages), "logo not printed"
    assert "comarca de Recife/PE" in text  # the contrato's foro names the sede
