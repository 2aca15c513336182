"""The legacy PDF routes: GET /api/v1/pis/{id}/pdf and GET /api/v1/contratos/{id}/pdf, rendered in core-api.

The monolith's way — but through `shared.documents` (the one template set pdf-service uses too) and
in a separate render process with a time limit, never on the event loop. The gateway's weighted
split sends a share of these routes to pdf-service, which answers the same contract.

Retirement of the legacy renderer = delete this module and its lines in `documentos/__init__.py`
(see docs/STRANGLER_FIG_PDF_MICROSERVICE.md, phase 6); `LEGACY_PDF_ENABLED=false` rehearses it.
"""

from __future__ import annotations

from litestar import Controller, Response, Router, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from shared.documents import DocumentKind
from shared.documents.http import pdf_response
from shared.documents.isolated import IsolatedRenderer

from core_api.domain.documentos.snapshots import DocumentSnapshotService
from core_api.lib.deps import provide_service

#: the same limits as pdf-service's defaults (PDF_RENDER_TIMEOUT_SECONDS, one render per slot)
RENDER_TIMEOUT_SECONDS = 30.0
MAX_PARALLEL_RENDERS = 2


async def render_pdf_response(
    renderer: IsolatedRenderer, snapshots: DocumentSnapshotService, kind: DocumentKind, source_id: str
) -> Response[bytes]:
    return await pdf_response(renderer, "legacy", kind, await snapshots.snapshot(kind, source_id))


class LegacyPdfController(Controller):
    path = "/"
    tags = ["documentos"]
    dependencies = {"snapshots": provide_service(DocumentSnapshotService)}

    @get("/pis/{pi_id:str}/pdf", media_type="application/pdf", cache=False, summary="PI as PDF")
    async def pi_pdf(
        self,
        renderer: NamedDependency[IsolatedRenderer],
        snapshots: NamedDependency[DocumentSnapshotService],
        pi_id: FromPath[str],
    ) -> Response[bytes]:
        """The PI as a PDF attachment (another empresa's or an unknown id: 404)."""
        return await render_pdf_response(renderer, snapshots, "pi", pi_id)

    @get(
        "/contratos/{contrato_id:str}/pdf",
        media_type="application/pdf",
        cache=False,
        summary="Contrato as PDF",
    )
    async def contrato_pdf(
        self,
        renderer: NamedDependency[IsolatedRenderer],
        snapshots: NamedDependency[DocumentSnapshotService],
        contrato_id: FromPath[str],
    ) -> Response[bytes]:
        """The contrato as a PDF attachment (another empresa's or an unknown id: 404)."""
        return await render_pdf_response(renderer, snapshots, "contrato", contrato_id)


def legacy_pdf_router() -> Router:
    """The legacy routes with a render pool of their own (one per app)."""
    renderer = IsolatedRenderer(timeout=RENDER_TIMEOUT_SECONDS, max_parallel=MAX_PARALLEL_RENDERS)

    def provide_renderer() -> IsolatedRenderer:
        return renderer

    return Router(
        path="/api/v1",
        route_handlers=[LegacyPdfController],
        dependencies={"renderer": Provide(provide_renderer, sync_to_thread=False)},
    )
