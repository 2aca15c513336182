"""HTTP bodies of the async PDF routes and the SSE notifications."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from core_api.domain.pdf_jobs.models import DocumentKindLiteral, PdfRequest, PdfRequestStatus
from core_api.lib.schemas import CamelModel


class PdfJobAccepted(CamelModel):
    """202: the job is recorded; follow it at `statusUrl` (pdf-service) or wait for the SSE event."""

    job_id: str
    status: PdfRequestStatus = "pending"
    status_url: str
    #: false when the broker did not take the event yet: it is in core-api's outbox and will be
    #: published as soon as Redis answers (pdf-service only knows the job from then on)
    queued: bool


class PdfRequestRead(CamelModel):
    """core-api's record of one PDF job of a PI or contrato."""

    job_id: str
    kind: DocumentKindLiteral
    source_id: str
    status: PdfRequestStatus
    queued: bool
    document_id: str | None = None
    filename: str | None = None
    checksum: str | None = Field(default=None, description="SHA-256 of the PDF bytes")
    generated_at: datetime | None = None
    #: where the finished PDF is downloaded (pdf-service, through the gateway)
    download_url: str | None = None
    error: str | None = None
    requested_by: str | None = None
    correlation_id: str | None = None
    created_at: datetime

    @classmethod
    def from_doc(cls, doc: PdfRequest) -> PdfRequestRead:
        return cls(
            job_id=doc.job_id,
            kind=doc.kind,
            source_id=str(doc.source_id),
            status=doc.status,
            queued=doc.published_at is not None,
            document_id=doc.document_id,
            filename=doc.filename,
            checksum=doc.sha256,
            generated_at=doc.generated_at,
            download_url=f"/api/v1/documents/{doc.document_id}" if doc.document_id else None,
            error=doc.error,
            requested_by=str(doc.requested_by) if doc.requested_by else None,
            correlation_id=doc.correlation_id,
            created_at=doc.created_at,
        )


class PdfNotification(CamelModel):
    """What an SSE client of `GET /api/v1/events` receives (`event: pdf.generated` / `pdf.failed`)."""

    type: str
    event_id: str
    job_id: str
    kind: DocumentKindLiteral
    source_id: str
    document_id: str | None = None
    filename: str | None = None
    error: str | None = None
    correlation_id: str | None = None
