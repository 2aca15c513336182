"""The parity checker's comparison logic, on real PDFs (WeasyPrint) read back with pypdf.

End to end it needs both PDF routes (core-api's legacy one and pdf-service's); until they exist the
`run` loop is exercised against an httpx MockTransport that speaks their contract.
"""

from __future__ import annotations

import io
import re

import httpx
import pytest
import weasyprint  # real WeasyPrint renders the PDFs compared here
from devstack.parity import DEFAULT_IGNORE, Rendering, compare, main, normalise, run

PDF_HEADERS = {"content-type": "application/pdf", "content-disposition": 'attachment; filename="pi-0001.pdf"'}


def pdf(*pages: str) -> bytes:
    html = "".join(f'<section style="page-break-after: always"><p>{text}</p></section>' for text in pages)
    return weasyprint.HTML(string=f"<html><body>{html}</body></html>").write_pdf()


def rendering(*pages: str, headers: dict | None = None, status: int = 200) -> Rendering:
    return Rendering.from_response(status, headers or PDF_HEADERS, pdf(*pages) if status == 200 else b"{}")


@pytest.fixture(scope="module")
def same():
    return rendering("PI 0001 Cliente Alfa R$ 1.234,56", "Placa 12 01/02/2026 a 28/02/2026")


def test_identical_documents_match(same):
    assert (
        compare(
            "pis/1", same, rendering("PI 0001 Cliente Alfa R$ 1.234,56", "Placa 12 01/02/2026 a 28/02/2026")
        )
        == []
    )


def test_text_difference_is_reported_with_a_diff(same):
    other = rendering("PI 0001 Cliente Alfa R$ 1.234,57", "Placa 12 01/02/2026 a 28/02/2026")
    [m] = compare("pis/1", same, other)
    assert m.aspect == "text (page 1)"
    assert "-1.234,56" in m.diff and "+1.234,57" in m.diff


def test_page_count_difference_is_reported(same):
    found = compare("pis/1", same, rendering("PI 0001 Cliente Alfa R$ 1.234,56"))
    assert [m.aspect for m in found] == ["pages"]


def test_contract_headers_must_match(same):
    other = rendering(
        "PI 0001 Cliente Alfa R$ 1.234,56",
        "Placa 12 01/02/2026 a 28/02/2026",
        headers={**PDF_HEADERS, "content-disposition": 'inline; filename="document.pdf"'},
    )
    [m] = compare("pis/1", same, other)
    assert m.aspect == "content-disposition"


def test_status_difference_and_shared_errors_are_mismatches(same):
    assert [m.aspect for m in compare("pis/1", same, rendering(status=404))] == ["status"]
    # both 404: the contract agrees, but nothing was rendered, so parity is not shown
    assert [m.aspect for m in compare("pis/1", rendering(status=404), rendering(status=404))] == ["render"]


def test_unreadable_pdf_is_a_finding_not_a_crash(same):
    broken = Rendering.from_response(200, PDF_HEADERS, b"%PDF-1.7 not really")
    [m] = compare("pis/1", same, broken)
    assert m.aspect == "render" and "unreadable" in m.new


def test_timestamps_and_line_breaks_do_not_count():
    a = normalise("Gerado em 01/02/2026 10:31\nTotal   R$ 10,00")
    b = normalise("Gerado em 01/02/2026 10:32:07 Total R$ 10,00")
    assert a == b
    # a date alone is content (a PI's period), never masked
    assert normalise("01/02/2026") != normalise("02/02/2026")
    assert DEFAULT_IGNORE


def contract_transport(new_text: str) -> httpx.MockTransport:
    """Both services' routes: list of PIs/contratos on core-api, `/pdf` on both."""
    legacy_pdf, new_pdf = pdf("Contrato 7 R$ 99,00"), pdf(new_text)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer t0k"
        path = request.url.path
        if re.fullmatch(r"/api/v1/(pis|contratos)", path):
            return httpx.Response(200, json={"items": [{"id": "a1"}], "total": 1, "page": 1, "pageSize": 5})
        if path.endswith("/pdf"):
            body = legacy_pdf if request.url.port == 4000 else new_pdf
            return httpx.Response(200, content=body, headers=PDF_HEADERS)
        return httpx.Response(404)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(("new_text", "code"), [("Contrato 7 R$ 99,00", 0), ("Contrato 7 R$ 98,00", 1)])
def test_run_exits_non_zero_on_any_mismatch(new_text, code):
    out = io.StringIO()
    rc = run(
        "http://core:4000",
        "http://pdf:4100",
        "t0k",
        5,
        list(DEFAULT_IGNORE),
        out=out,
        transport=contract_transport(new_text),
    )
    assert rc == code, out.getvalue()
    assert "2 documents compared" in out.getvalue()


def test_main_without_credentials_says_what_to_give(capsys, monkeypatch):
    for name in ("PARITY_TOKEN", "PARITY_EMAIL", "PARITY_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "PARITY_EMAIL" in capsys.readouterr().err
