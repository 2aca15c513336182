"""GET /api/v1/pis/{id}/pdf and GET /api/v1/contratos/{id}/pdf: the new path of the strangler fig.

The same contract as core-api's legacy routes (status codes, Content-Type, Content-Disposition, auth,
tenant scoping, the same document): the data comes from core-api's internal snapshot endpoint, the
PDF from `shared.documents` (the one template set) in a separate process with a time limit.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from shared.auth import Principal
from shared.documents import DocumentKind
from shared.documents.http import pdf_response
from shared.documents.isolated import IsolatedRenderer

from pdf_service.domain.sync_pdf.snapshots import CoreApiSnapshots


async def render_pdf_response(
    request: Request[Principal, Any, Any],
    snapshots: CoreApiSnapshots,
    renderer: IsolatedRenderer,
    kind: DocumentKind,
    source_id: str,
) -> Response[bytes]:
    snapshot = await snapshots.fetch(kind, source_id, request.headers.get("authorization", ""))
    return await pdf_response(renderer, "pdf-service", kind, snapshot)


class SyncPdfController(Controller):
    path = "/api/v1"
    tags = ["documentos"]

    @get("/pis/{pi_id:str}/pdf", media_type="application/pdf", cache=False, summary="PI as PDF")
    async def pi_pdf(
        self,
        request: Request[Principal, Any, Any],
        pdf_snapshots: NamedDependency[CoreApiSnapshots],
        pdf_renderer: NamedDependency[IsolatedRenderer],
        pi_id: FromPath[str],
    ) -> Response[bytes]:
        """The PI as a PDF attachment (another empresa's or an unknown id: 404)."""
        return await render_pdf_response(request, pdf_snapshots, pdf_renderer, "pi", pi_id)

    @get(
        "/contratos/{contrato_id:str}/pdf",
        media_type="application/pdf",
        cache=False,
        summary="Contrato as PDF",
    )
    async def contrato_pdf(
        self,
        request: Request[Principal, Any, Any],
        pdf_snapshots: NamedDependency[CoreApiSnapshots],
        pdf_renderer: NamedDependency[IsolatedRenderer],
        contrato_id: FromPath[str],
    ) -> Response[bytes]:
        """The contrato as a PDF attachment (another empresa's or an unknown id: 404)."""
        return await render_pdf_response(request, pdf_snapshots, pdf_renderer, "contrato", contrato_id)
