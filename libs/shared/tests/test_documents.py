"""PI and contrato rendering with real WeasyPrint, qpdf and pdftotext."""

from __future__ import annotations

import http.server
import subprocess
import threading
import time
from pathlib import Path

import pytest
from shared.documents.formatting import brl, data_br, dimensoes
from shared.documents.isolated import IsolatedRenderer, RenderTimeout, render_blocking
from shared.documents.render import (
    ASSETS_DIR,
    assets_only_fetcher,
    document_filename,
    render_document,
    render_html,
    render_html_to_pdf,
    render_pdf,
)
from shared.documents.samples import sample_snapshot


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def spy_server():
    """A local HTTP server that records every request it gets (it must get none)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_pt_br_formatting():
    assert brl(123456) == "R$ 1.234,56"
    assert brl(5) == "R$ 0,05"
    assert brl(100_000_000) == "R$ 1.000.000,00"
    assert brl(-250) == "-R$ 2,50"
    from datetime import date

    assert data_br(date(2026, 4, 1)) == "01/04/2026"
    assert dimensoes(900, 300) == "9,00 × 3,00 m"


def test_pi_is_a_valid_one_page_pdf_with_pt_br_values(tmp_path):
    doc = render_document("pi", sample_snapshot("pi", placas=4))
    assert doc.pdf.startswith(b"%PDF-") and doc.pages == 1
    text = pdf_text(doc.pdf, tmp_path)
    assert "Padaria São João Ltda" in text
    assert "PEDIDO DE INSERÇÃO" in text
    assert "R$ 1.234,56" in text and "R$ 4.938,24" in text
    assert "01/04/2026" in text and "30/04/2026" in text
    assert "PL-004" in text and "Av. Boa Viagem, 140" in text and "Zona Sul" in text


def test_contrato_has_clauses_signatures_and_runs_to_three_pages(tmp_path):
    doc = render_document("contrato", sample_snapshot("contrato", placas=10))
    assert doc.pages == 3
    text = pdf_text(doc.pdf, tmp_path)
    assert "CONTRATO DE LOCAÇÃO" in text
    assert "CLÁUSULA 1ª" in text and "DO FORO" in text
    assert "CONTRATANTE" in text and "Testemunha 1" in text
    assert "Anexo I".upper() in text.upper() and "PL-010" in text
    assert "Página 3 de 3" in text


def test_render_pdf_refuses_a_kind_that_does_not_match_the_snapshot():
    with pytest.raises(ValueError, match="snapshot is a pi"):
        render_pdf("contrato", sample_snapshot("pi"))


def test_user_text_is_escaped_and_nothing_it_names_is_fetched(tmp_path, spy_server):
    url, hits = spy_server
    evil = f'<img src="{url}/tracker.png"><link rel=stylesheet href="file:///etc/passwd">'
    snapshot = sample_snapshot("pi", cliente_nome=evil[:300])
    html = render_html("pi", snapshot)
    assert '<img src="http' not in html and "&lt;img src=" in html
    text = pdf_text(render_pdf("pi", snapshot), tmp_path)
    assert "<img src=" in text  # printed as the text the user typed
    assert hits == []


def test_fetcher_allows_own_assets_only(tmp_path, spy_server):
    url, hits = spy_server
    html = f"""<html><head><link rel="stylesheet" href="document.css"></head><body>
      <p>own assets load</p>
      <img src="{url}/network.png">
      <img src="file:///etc/passwd">
      <link rel="stylesheet" href="file:///etc/passwd">
      <img src="{ASSETS_DIR.as_uri()}/../../../../../../etc/passwd">
      <img src="fonts/../../render.py">
    </body></html>"""
    fetcher = assets_only_fetcher()
    doc = render_html_to_pdf(html, fetcher)
    text = pdf_text(doc.pdf, tmp_path)
    assert "own assets load" in text and "root:" not in text
    assert hits == []
    blocked = " ".join(fetcher.blocked)
    assert f"{url}/network.png" in blocked
    assert blocked.count("etc/passwd") == 3
    assert "render.py" in blocked


def test_isolated_render_returns_the_same_document(tmp_path):
    doc = render_blocking("pi", sample_snapshot("pi"), timeout=60)
    assert doc.pages == 1
    assert "Padaria São João Ltda" in pdf_text(doc.pdf, tmp_path)


def test_time_limit_kills_a_runaway_render():
    huge = sample_snapshot("contrato", placas=3000)
    started = time.monotonic()
    with pytest.raises(RenderTimeout):
        render_blocking("contrato", huge, timeout=0.5)
    assert time.monotonic() - started < 5


async def test_isolated_renderer_is_usable_from_async_code():
    renderer = IsolatedRenderer(timeout=60, max_parallel=2)
    doc = await renderer.render("pi", sample_snapshot("pi").model_dump(mode="json", by_alias=True))
    assert doc.pdf.startswith(b"%PDF-")


def test_filename_is_meaningful_and_safe():
    name = document_filename(sample_snapshot("contrato", cliente_nome='Zé "Ação"/../Ltda'))
    assert name == "contrato-2026-0042-ze-acao-ltda.pdf"
