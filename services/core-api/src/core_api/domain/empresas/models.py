from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field

from core_api.lib.documents import Representante, utcnow


class Logo(BaseModel):
    """The empresa's logo, stored in GridFS (bucket `empresa_logos`)."""

    file_id: PydanticObjectId
    content_type: str
    length: int
    sha256: str


class Empresa(Document):
    """A tenant: one outdoor-advertising company. Not a TenantDocument: it *is* the tenant.

    Its profile (sede, contacts, legal representative, logo) is printed on PIs and contratos."""

    nome: str
    cnpj: str | None = None
    endereco: str | None = None
    cidade: str | None = None
    uf: str | None = None
    telefone: str | None = None
    email: str | None = None
    representante: Representante | None = None
    logo: Logo | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    #: bumped by every write (see `TenantRepository.write`)
    version: int = 0

    class Settings:
        name = "empresas"
