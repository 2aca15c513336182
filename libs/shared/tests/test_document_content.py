"""What a company needs printed on its PIs and contratos: masked CNPJ/CPF with the right label, the
parties' representatives, per-placa values that add up to the total, clauses chosen by payment terms,
the place and date on the signature page. Real WeasyPrint, text extracted with pdftotext."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError
from shared.documents.clausulas import DEFAULT_CLAUSES, fill, resolve_clausulas, unknown_placeholders
from shared.documents.formatting import (
    bissemanas,
    documento_br,
    documento_rotulado,
    documento_tipo,
    percentual,
)
from shared.documents.render import render_document
from shared.documents.samples import complete_snapshot, sample_snapshot
from shared.documents.snapshot import DocumentSnapshot


def pages_text(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout.split("\f")


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# -- pure formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked", "kind"),
    [
        ("11222333000181", "11.222.333/0001-81", "CNPJ"),
        ("11.222.333/0001-81", "11.222.333/0001-81", "CNPJ"),
        ("12345678909", "123.456.789-09", "CPF"),
        ("123.456.789-09", "123.456.789-09", "CPF"),
        ("AB-1234", "AB-1234", "Documento"),
    ],
)
def test_cnpj_and_cpf_are_masked_and_labelled(raw, masked, kind):
    assert documento_br(raw) == masked
    assert documento_tipo(raw) == kind
    assert documento_rotulado(raw) == f"{kind} {masked}"


def test_percent_and_bissemanas():
    assert percentual(2000) == "20%" and percentual(1250) == "12,5%" and percentual(5) == "0,05%"
    assert bissemanas(date(2027, 3, 1), date(2027, 3, 28)) == "2 bissemanas"
    assert bissemanas(date(2027, 3, 1), date(2027, 3, 30)) == "2 bissemanas e 2 dias"
    assert bissemanas(date(2027, 3, 1), date(2027, 3, 1)) == "1 dia"


def test_parcelas_must_add_up_to_the_total():
    data = complete_snapshot("contrato", forma="parcelado").model_dump(by_alias=True)
    data["pagamento"]["parcelas"][0]["valorCentavos"] += 1
    with pytest.raises(ValidationError, match="add up to"):
        DocumentSnapshot.model_validate(data)


def test_a_vista_has_one_parcela_and_parcelado_several():
    data = complete_snapshot("contrato", forma="parcelado").model_dump(by_alias=True)
    data["pagamento"]["forma"] = "avista"
    with pytest.raises(ValidationError, match="exactly one parcela"):
        DocumentSnapshot.model_validate(data)


def test_clauses_follow_the_payment_terms():
    avista = {c.titulo: c.texto for c in resolve_clausulas(complete_snapshot("contrato", forma="avista"))}
    parcelado = {
        c.titulo: c.texto for c in resolve_clausulas(complete_snapshot("contrato", forma="parcelado"))
    }
    assert "parcelas vincendas" not in avista["Da rescisão"]
    assert "período restante" in avista["Da rescisão"]
    assert "parcelas vincendas" in parcelado["Da rescisão"]
    assert "parcela única, com vencimento em 10/03/2027" in avista["Do preço e do pagamento"]
    assert "em 3 parcelas" in parcelado["Do preço e do pagamento"]
    for needed in ("Das licenças e posturas municipais", "Da cessão e da sublocação", "Do reajuste"):
        assert needed in avista
    assert "Lei nº 13.709/2018" in avista["Da proteção de dados pessoais"]
    assert list(avista)[-1] == "Do foro" and "Recife/PE" in avista["Do foro"]


def test_clause_placeholders_are_a_whitelist_not_python_formatting():
    doc = complete_snapshot("contrato")
    assert unknown_placeholders("{valor_total} e {0.__class__} e {segredo}") == ["segredo"]
    assert fill("{valor_total} {0.__class__} {segredo}", doc) == "R$ 7.000,00 {0.__class__} {segredo}"
    assert all(not unknown_placeholders(c.texto) for c in DEFAULT_CLAUSES)


def test_signed_clauses_are_printed_as_signed(tmp_path):
    data = complete_snapshot("contrato").model_dump(by_alias=True)
    data["clausulasContrato"] = [
        {"titulo": "Cláusula própria", "texto": "Texto assinado em 2027."},
        {"titulo": "Do foro", "texto": "Foro de Olinda/PE."},
    ]
    data["clausulasVersao"] = "empresa-v7"
    doc = DocumentSnapshot.model_validate(data)
    text = flat("".join(pages_text(render_document("contrato", doc).pdf, tmp_path)))
    assert "Texto assinado em 2027." in text and "Foro de Olinda/PE." in text
    assert "DO REAJUSTE" not in text  # the default set is not mixed in
    assert "versão empresa-v7" in text


# -- rendered documents ----------------------------------------------------------------------------


def test_pi_prints_masked_documents_items_agency_and_terms(tmp_path):
    doc = complete_snapshot("pi")
    text = flat("".join(pages_text(render_document("pi", doc).pdf, tmp_path)))
    assert "CNPJ 11.222.333/0001-81" in text and "CNPJ 98.765.432/0001-98" in text
    assert "11222333000181" not in text and "CPF/CNPJ" not in text
    assert "CPF 123.456.789-09" in text and "Carlos Andrade, Diretor comercial" in text
    # each placa its own value, the discount, and a total that is their sum
    for value in ("R$ 2.200,00", "R$ 1.900,00", "R$ 3.000,00", "R$ 1.800,00"):
        assert value in text
    net = sum((p.valor_centavos or 0) - (p.desconto_centavos or 0) for p in doc.placas)
    assert net == doc.valor_total_centavos == 700000 and "R$ 7.000,00" in text
    assert "Agência Maré Comunicação" in text and "Comissão da agência (20%) R$ 1.400,00" in text
    assert "2 bissemanas" in text and "Lona" in text and "22/02/2027" in text
    assert "Autorizado por Maria Souza em 15/02/2027" in text
    assert "Nº PI-2027-000123" in text and "PI PI-" not in text
    assert "Recife, 15 de fevereiro de 2027." in text


@pytest.mark.parametrize("forma", ["avista", "parcelado"])
def test_contrato_keeps_its_last_clause_with_place_date_and_signatures(tmp_path, forma):
    pages = pages_text(render_document("contrato", complete_snapshot("contrato", forma=forma)).pdf, tmp_path)
    signature_page = next(p for p in pages if "Testemunha 1" in p)
    flat_page = flat(signature_page)
    # the page with the signatures also holds the foro clause and the place and date line
    assert "DO FORO" in flat_page and "Recife/PE" in flat_page
    assert "Recife, 15 de fevereiro de 2027." in flat_page
    assert "CONTRATADA — CNPJ 11.222.333/0001-81" in flat_page
    assert "p.p. Maria Souza, Sócia-administradora (CPF 987.654.321-00)" in flat_page
    whole = flat(" ".join(pages))
    assert ("parcelas vincendas" in whole) == (forma == "parcelado")
    assert "ANEXO II" in whole.upper()
    assert ("R$ 2.333,34" in whole) == (forma == "parcelado")


def test_old_snapshots_still_render_with_the_default_clauses(tmp_path):
    text = flat("".join(pages_text(render_document("contrato", sample_snapshot("contrato")).pdf, tmp_path)))
    assert "DO FORO" in text and "DA PROTEÇÃO DE DADOS PESSOAIS" in text
    assert "CNPJ 12.345.678/0001-90" in text
