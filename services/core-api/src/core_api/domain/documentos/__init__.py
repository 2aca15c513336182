"""Domain area: documentos — the PDF of a PI or contrato.

- `internal`: GET /api/v1/internal/{pis,contratos}/{id}/snapshot, the render input pdf-service fetches
  (kept when the legacy renderer retires);
- `legacy`: the legacy in-process renderer, GET /api/v1/{pis,contratos}/{id}/pdf, mounted only while
  `LEGACY_PDF_ENABLED` (retirement: delete `legacy.py` and the two lines marked below).

Controllers depend on settings, so this area exports `controllers_for(settings)`.
"""

from __future__ import annotations

from core_api.domain.documentos.internal import internal_snapshot_router
from core_api.domain.documentos.legacy import legacy_pdf_router  # retirement: delete
from core_api.settings import CoreApiSettings

controllers: list = []
documents: list = []


def controllers_for(settings: CoreApiSettings) -> list:
    routers = [internal_snapshot_router(settings)]
    routers += [legacy_pdf_router()] if settings.legacy_pdf_enabled else []  # retirement: delete
    return routers


__all__ = ["controllers", "controllers_for", "documents"]
