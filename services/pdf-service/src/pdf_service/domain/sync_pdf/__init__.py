"""Synchronous PDF routes (the strangler fig's new path): GET /api/v1/{pis,contratos}/{id}/pdf."""

from pdf_service.domain.sync_pdf.plugin import SyncPdfPlugin

__all__ = ["SyncPdfPlugin"]
