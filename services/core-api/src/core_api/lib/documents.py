"""Base for every tenant-owned Beanie document: it always carries its empresa."""

from __future__ import annotations

from datetime import UTC, datetime

from beanie import Document, PydanticObjectId
from pydantic import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class TenantDocument(Document):
    """Every domain document belongs to exactly one empresa (the tenant)."""

    empresa_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
