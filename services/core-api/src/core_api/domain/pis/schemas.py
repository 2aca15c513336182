"""HTTP bodies of /pis."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core_api.domain.alugueis.schemas import Centavos, PeriodoMixin
from core_api.domain.pis.models import PI, DocumentoGerado
from core_api.lib.schemas import CamelModel

#: what clients see: `vencida` is an `em_andamento` PI whose period has ended
PIStatusPublico = Literal["em_andamento", "vencida", "concluida", "cancelada"]
MAX_PLACAS_POR_PI = 100


class PICreate(PeriodoMixin):
    """Book every placa for [inicio, fim) for one cliente — all of them or none."""

    cliente_id: str = Field(min_length=1, max_length=64)
    placa_ids: list[str] = Field(min_length=1, max_length=MAX_PLACAS_POR_PI)
    valor_total_centavos: Centavos
    produto: str = Field(min_length=1, max_length=200)
    descricao: str | None = Field(default=None, max_length=2000)

    @field_validator("placa_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("placaIds must not repeat a placa")
        if any(not 1 <= len(v) <= 64 for v in value):
            raise ValueError("placaIds must be placa ids")
        return value


class PIUpdate(CamelModel):
    """Change descriptive fields and/or move the status (em_andamento → concluida | cancelada).

    The placas and the period cannot change: cancel the PI and create another.
    """

    produto: str | None = Field(default=None, min_length=1, max_length=200)
    descricao: str | None = Field(default=None, max_length=2000)
    valor_total_centavos: Centavos | None = None
    status: PIStatusPublico | None = None

    @model_validator(mode="after")
    def _not_null_and_not_empty(self) -> PIUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of produto, descricao, valorTotalCentavos, status")
        for name, wire in (
            ("produto", "produto"),
            ("valor_total_centavos", "valorTotalCentavos"),
            ("status", "status"),
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{wire} cannot be null; omit it to leave it unchanged")
        return self


class DocumentoRead(CamelModel):
    """A generated PDF: download it from `downloadUrl` (served by pdf-service through the gateway)."""

    document_id: str
    job_id: str
    filename: str
    checksum: str = Field(description="SHA-256 of the PDF bytes")
    size_bytes: int
    pages: int
    gerado_em: datetime
    download_url: str

    @classmethod
    def from_doc(cls, doc: DocumentoGerado) -> DocumentoRead:
        return cls(
            document_id=doc.document_id,
            job_id=doc.job_id,
            filename=doc.filename,
            checksum=doc.sha256,
            size_bytes=doc.size_bytes,
            pages=doc.pages,
            gerado_em=doc.gerado_em,
            download_url=f"/api/v1/documents/{doc.document_id}",
        )


class PIRead(CamelModel):
    id: str
    cliente_id: str
    placa_ids: list[str]
    aluguel_ids: list[str]
    inicio: datetime
    fim: datetime
    dia_inicio: str
    dia_fim: str
    valor_total_centavos: int
    produto: str
    descricao: str | None
    status: PIStatusPublico
    concluida_em: datetime | None
    cancelada_em: datetime | None
    created_at: datetime
    updated_at: datetime
    documentos: list[DocumentoRead] = Field(default_factory=list)

    @classmethod
    def from_doc(cls, doc: PI, status: PIStatusPublico) -> PIRead:
        return cls(
            id=str(doc.id),
            cliente_id=str(doc.cliente_id),
            placa_ids=[str(p) for p in doc.placa_ids],
            aluguel_ids=[str(a) for a in doc.aluguel_ids],
            inicio=doc.inicio,
            fim=doc.fim,
            dia_inicio=doc.dia_inicio,
            dia_fim=doc.dia_fim,
            valor_total_centavos=doc.valor_total_centavos,
            produto=doc.produto,
            descricao=doc.descricao,
            status=status,
            concluida_em=doc.concluida_em,
            cancelada_em=doc.cancelada_em,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            documentos=[DocumentoRead.from_doc(d) for d in doc.documentos],
        )
