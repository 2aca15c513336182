from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field

from core_api.lib.documents import utcnow


class Empresa(Document):
    """A tenant: one outdoor-advertising company. Not a TenantDocument: it *is* the tenant."""

    nome: str
    cnpj: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    #: bumped by every write (see `TenantRepository.write`)
    version: int = 0

    class Settings:
        name = "empresas"
