"""HTTP bodies of the async PDF routes and the SSE notifications."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from core_api.domain.pdf_jobs.models import DocumentKindLiteral, PdfRequest, PdfRequestStatus
from core_api.lib.schemas import CamelModel


class PdfJobAccepted(CamelModel):
    """202: the job is recorded; follow it at `statusUrl` (GET /api/v1/pdf-jobs/{jobId}) or wait for
    the SSE event."""

    job_id: str
    status: PdfRequestStatus = "pending"
    status_url: str
    #: false when the broker did not take the event yet: it is in core-api's outbox and will be
    #: published as soon as Redis answers (pdf-service only knows the job from then on)
    queued: bool


class PdfRequestRead(CamelModel):
    """One PDF job of a PI or contrato, as core-api (its owner) knows it from pdf-service's
    outcome events: `pending` until `pdf.generated` (`done`, with the document) or `pdf.failed`
    (`failed`, with the error)."""

    job_id: str
    kind: DocumentKindLiteral
    source_id: str
    status: PdfRequestStatus
    queued: bool
    attempts: int = Field(description="render attempts pdf-service reported (0 while pending)")
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
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: PdfRequest) -> PdfRequestRead:
        return cls(
            job_id=doc.job_id,
            kind=doc.kind,
            source_id=str(doc.source_id),
            status=doc.status,
            queued=doc.published_at is not None,
            attempts=doc.attempts,
            document_id=doc.document_id,
            filename=doc.filename,
            checksum=doc.sha256,
            generated_at=doc.generated_at,
            download_url=f"/api/v1/documents/{doc.document_id}" if doc.document_id else None,
            error=doc.error,
            requested_by=str(doc.requested_by) if doc.requested_by else None,
            correlation_id=doc.correlation_id,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
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
