"""Domain area: documentos — the PDF of a PI or contrato.

- `internal`: GET /api/v1/internal/{pis,contratos}/{id}/snapshot, the render input pdf-service fetches
  (kept when the legacy renderer retires), served only by the internal app (`internal_controllers`)
  on core-api's internal listener, never by the public app;
- `listing`: GET /api/v1/documentos, the generated PDFs with their download links;
- `legacy`: the legacy in-process renderer, GET /api/v1/{pis,contratos}/{id}/pdf, mounted only while
  `LEGACY_PDF_ENABLED` (retirement: delete `legacy.py` and the two lines marked below).

Controllers depend on settings, so this area exports `controllers_for(settings)`.
"""

from __future__ import annotations

from core_api.domain.documentos.internal import internal_snapshot_router
from core_api.domain.documentos.legacy import legacy_pdf_router  # retirement: delete
from core_api.domain.documentos.listing import DocumentosController
from core_api.settings import CoreApiSettings

controllers: list = [DocumentosController]
documents: list = []


def controllers_for(settings: CoreApiSettings) -> list:
    return [
        DocumentosController,
        *([legacy_pdf_router()] if settings.legacy_pdf_enabled else []),
    ]  # retirement: delete the second


def internal_controllers(settings: CoreApiSettings) -> list:
    """The routes of core-api's internal listener (see core_api.server.app.create_internal_app)."""
    return [internal_snapshot_router(settings)]


__all__ = ["controllers", "controllers_for", "documents", "internal_controllers"]
