"""Events of the asynchronous PDF path (SPEC §3 item 4).

core-api publishes `pdf.requested`; pdf-service renders, stores and answers with `pdf.generated` or
`pdf.failed`. The job id is chosen by core-api (it answers 202 with it) and is the idempotency key:
pdf-service stores at most one document per job id, whatever the number of deliveries.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from shared.documents.snapshot import DocumentKind, DocumentSnapshot
from shared.events.envelope import ID_PATTERN, EventPayload, register_event

PDF_REQUESTED = "pdf.requested"
PDF_GENERATED = "pdf.generated"
PDF_FAILED = "pdf.failed"

JobId = str
_JOB_ID = r"^[A-Za-z0-9_-]{8,64}$"


@register_event
class PdfRequestedV1(EventPayload):
    """Render this document and keep it (published by core-api)."""

    event_type = PDF_REQUESTED
    schema_version = 1

    job_id: JobId = Field(pattern=_JOB_ID, description="chosen by the requester; the idempotency key")
    kind: DocumentKind
    source_id: str = Field(pattern=ID_PATTERN, description="id of the PI or contrato in core-api")
    requested_by: str | None = Field(default=None, pattern=ID_PATTERN, description="user id")
    snapshot: DocumentSnapshot

    @model_validator(mode="after")
    def _consistent(self) -> PdfRequestedV1:
        if self.snapshot.kind != self.kind or self.snapshot.source_id != self.source_id:
            raise ValueError("kind and sourceId must match the snapshot's")
        return self


@register_event
class PdfGeneratedV1(EventPayload):
    """The document is stored and can be downloaded (published by pdf-service)."""

    event_type = PDF_GENERATED
    schema_version = 1

    job_id: JobId = Field(pattern=_JOB_ID)
    kind: DocumentKind
    source_id: str = Field(pattern=ID_PATTERN)
    document_id: str = Field(description="GET /api/v1/documents/{documentId}")
    filename: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)
    pages: int = Field(ge=1)
    attempts: int = Field(default=1, ge=1, description="render attempts the job took (1 unless retried)")


@register_event
class PdfFailedV1(EventPayload):
    """The document could not be rendered (published by pdf-service); retrying the same data won't help."""

    event_type = PDF_FAILED
    schema_version = 1

    job_id: JobId = Field(pattern=_JOB_ID)
    kind: DocumentKind
    source_id: str = Field(pattern=ID_PATTERN)
    error: str = Field(max_length=2000)
    attempts: int = Field(ge=1)
