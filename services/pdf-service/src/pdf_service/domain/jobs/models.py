"""The PdfJob record: one per job id (its `_id`), owned by one empresa."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

JobStatus = Literal["pending", "done", "failed"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class PdfJob(Document):
    id: str  # type: ignore[assignment]  # the job id chosen by core-api: unique by construction
    empresa_id: str
    kind: Literal["pi", "contrato"]
    source_id: str
    status: JobStatus = "pending"
    document_id: str | None = None
    filename: str | None = None
    sha256: str | None = None
    pages: int | None = None
    error: str | None = None
    attempts: int = 0
    worker: str | None = None
    request_event_id: str | None = None
    correlation_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "pdf_jobs"
        indexes = [IndexModel([("empresa_id", ASCENDING), ("created_at", ASCENDING)], name="empresa_created")]
