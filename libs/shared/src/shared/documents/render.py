"""Render a PI or contrato snapshot to PDF with WeasyPrint (in this process; see `isolated` for limits).

Safety for data users typed: Jinja2 autoescaping (a cliente called `<img src=…>` prints as text), and
`AssetsOnlyFetcher`, which lets WeasyPrint read only this package's assets (CSS, fonts) and inline
`data:` images — no network, no `file://` outside the assets directory.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jinja2

from shared.documents import formatting
from shared.documents.clausulas import clausulas_of
from shared.documents.snapshot import DocumentKind, DocumentSnapshot

ASSETS_DIR = (Path(__file__).parent / "assets").resolve()
TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATES: dict[DocumentKind, str] = {"pi": "pi.html", "contrato": "contrato.html"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedDocument:
    pdf: bytes
    pages: int
    sha256: str


def _initials(nome: str) -> str:
    words = [w for w in nome.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


@cache
def template_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template is HTML; user text is always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        brl=formatting.brl,
        data_br=formatting.data_br,
        documento_br=formatting.documento_br,
        documento_rotulado=formatting.documento_rotulado,
        percentual=formatting.percentual,
    )
    env.globals.update(
        bissemanas=formatting.bissemanas,
        clausulas_of=clausulas_of,
        dias=formatting.dias,
        dimensoes=formatting.dimensoes,
        data_extenso=formatting.data_extenso,
        initials=_initials,
    )
    return env


def _snapshot(kind: DocumentKind, snapshot: DocumentSnapshot | dict[str, Any]) -> DocumentSnapshot:
    doc = snapshot if isinstance(snapshot, DocumentSnapshot) else DocumentSnapshot.model_validate(snapshot)
    if kind not in TEMPLATES:
        raise ValueError(f"unknown document kind {kind!r}; expected one of {sorted(TEMPLATES)}")
    if doc.kind != kind:
        raise ValueError(f"asked for a {kind} but the snapshot is a {doc.kind}")
    return doc


def render_html(kind: DocumentKind, snapshot: DocumentSnapshot | dict[str, Any]) -> str:
    """The HTML the PDF is made from (useful to debug a layout in a browser)."""
    doc = _snapshot(kind, snapshot)
    return template_env().get_template(TEMPLATES[kind]).render(doc=doc)


def _fetcher_base() -> type:
    from weasyprint.urls import URLFetcher

    class AssetsOnlyFetcher(URLFetcher):
        """Serves `file://` URLs inside ASSETS_DIR and `data:` URLs; refuses everything else."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=1)
            self.blocked: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            from weasyprint.urls import URLFetcherResponse

            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
                path = Path(unquote(parsed.path)).resolve()
                if path.is_relative_to(ASSETS_DIR) and path.is_file():
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
            self.blocked.append(url)
            log.warning("document renderer refused to fetch %s", url[:200])
            raise ValueError(f"fetching {url[:200]!r} is not allowed while rendering documents")

    return AssetsOnlyFetcher


def assets_only_fetcher() -> Any:
    """A WeasyPrint URL fetcher limited to the package's assets (and inline data: URIs)."""
    return _fetcher_base()()


def render_html_to_pdf(html: str, fetcher: Any | None = None) -> RenderedDocument:
    """HTML → PDF with the assets-only fetcher and the assets directory as base URL."""
    from weasyprint import HTML

    document = HTML(
        string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=fetcher or assets_only_fetcher()
    ).render()
    pdf = document.write_pdf()
    assert pdf is not None
    return RenderedDocument(pdf=pdf, pages=len(document.pages), sha256=hashlib.sha256(pdf).hexdigest())


def render_document(kind: DocumentKind, snapshot: DocumentSnapshot | dict[str, Any]) -> RenderedDocument:
    """Render in this process: the PDF with its page count and sha256."""
    return render_html_to_pdf(render_html(kind, snapshot))


def render_pdf(kind: DocumentKind, snapshot: DocumentSnapshot | dict[str, Any]) -> bytes:
    """Render a PI or contrato to PDF bytes in this process (no time limit: see `isolated`)."""
    return render_document(kind, snapshot).pdf


def document_filename(snapshot: DocumentSnapshot) -> str:
    """A meaningful download name: `pi-2026-0042-padaria-sao-joao.pdf`."""
    import re
    import unicodedata

    def slug(text: str) -> str:
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")

    numero = slug(snapshot.numero)
    # "PI-2026-000123" already names the kind: pi-2026-000123-…, not pi-pi-2026-000123-…
    numero = numero.removeprefix(f"{snapshot.kind}-")
    parts = [snapshot.kind, numero, slug(snapshot.cliente.nome)[:40]]
    return "-".join(p for p in parts if p) + ".pdf"
