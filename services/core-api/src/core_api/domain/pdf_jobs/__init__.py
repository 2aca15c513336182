"""Domain area: pdf_jobs — the asynchronous PDF path (SPEC §3 item 4) on core-api's side.

`POST /{pis,contratos}/{id}/pdf-jobs` records the job (the outbox) and publishes `pdf.requested`;
`PdfEvents` relays the outbox, consumes `pdf.generated` / `pdf.failed` and notifies the empresa's
clients on `GET /api/v1/events` (SSE over Litestar channels). See docs/events.md.
"""

from __future__ import annotations

from core_api.domain.pdf_jobs.controllers import PdfJobController
from core_api.domain.pdf_jobs.events import PdfEvents, PdfEventsPlugin, channels_plugin, empresa_channel
from core_api.domain.pdf_jobs.models import PdfRequest
from core_api.settings import CoreApiSettings

controllers: list = [PdfJobController]
documents: list = [PdfRequest]


def plugins_for(settings: CoreApiSettings) -> list:
    """Channels (Redis pub/sub) first, then the plugin running the bus: it stops before channels close."""
    channels = channels_plugin(settings)
    return [channels, PdfEventsPlugin(settings, channels)]


__all__ = ["PdfEvents", "controllers", "documents", "empresa_channel", "plugins_for"]
