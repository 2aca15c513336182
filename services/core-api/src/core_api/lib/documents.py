"""Base for every tenant-owned Beanie document: it always carries its empresa."""

from __future__ import annotations

from datetime import UTC, datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field


def utcnow() -> datetime:
    """Now, in UTC, at millisecond precision: what BSON dates store, so a document's timestamps
    read the same in the response that created it and in every later read."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class TenantDocument(Document):
    """Every domain document belongs to exactly one empresa (the tenant)."""

    empresa_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    #: bumped by every write (see `TenantRepository.write`): the condition of each update
    version: int = 0


class Representante(BaseModel):
    """Who signs for a party (empresa or cliente): printed on PIs and contratos."""

    nome: str
    cpf: str | None = None  # digits
    cargo: str | None = None
