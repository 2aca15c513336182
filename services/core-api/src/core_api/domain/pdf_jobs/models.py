"""What core-api keeps about the PDFs it asked for: one `pdf_requests` record per job.

The record is written before the `pdf.requested` event is published and carries the event itself,
so it doubles as the transactional outbox: `published_at` stays null until Redis accepted the event
(the request itself or the relay in `events.py` publishes it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from beanie import PydanticObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from core_api.lib.documents import TenantDocument

PdfRequestStatus = Literal["pending", "done", "failed"]
DocumentKindLiteral = Literal["pi", "contrato"]


class PdfRequest(TenantDocument):
    job_id: str
    kind: DocumentKindLiteral
    source_id: PydanticObjectId
    status: PdfRequestStatus = "pending"
    requested_by: PydanticObjectId | None = None
    correlation_id: str | None = None
    #: the `pdf.requested` envelope as published (JSON); the outbox payload
    event: dict[str, Any]
    #: when Redis accepted the event (null: still in the outbox)
    published_at: datetime | None = None
    publish_attempts: int = 0
    last_publish_error: str | None = None
    # outcome (from pdf.generated / pdf.failed): GET /api/v1/pdf-jobs/{id} answers from these
    attempts: int = 0
    document_id: str | None = None
    filename: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    pages: int | None = None
    generated_at: datetime | None = None
    error: str | None = None
    failed_at: datetime | None = None

    class Settings:
        name = "pdf_requests"
        indexes = [
            # one record per job: the handlers' idempotency key
            IndexModel([("job_id", ASCENDING)], unique=True, name="job_unique"),
            IndexModel(
                [("empresa_id", ASCENDING), ("source_id", ASCENDING), ("created_at", DESCENDING)],
                name="empresa_source_created",
            ),
            # the relay's scan of the outbox
            IndexModel([("published_at", ASCENDING), ("created_at", ASCENDING)], name="outbox"),
        ]
