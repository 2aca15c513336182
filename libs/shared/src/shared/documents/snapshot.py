"""What a PI or contrato PDF shows: a self-contained snapshot, so a renderer never reads a database.

The same model is the `snapshot` of the `pdf.requested` event and the input of `render_pdf`, so the
legacy renderer in core-api and pdf-service print exactly the same thing from the same data.
Money is integer cents; periods are calendar dates (aware datetimes are converted to the date they
fall on in America/Sao_Paulo, which is what a printed document means by "a day").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

DocumentKind = Literal["pi", "contrato"]
LOCAL_TZ = ZoneInfo("America/Sao_Paulo")
_LOGO_DATA_URI = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]+$")


def _to_local_date(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("datetimes must carry a time zone")
        return value.astimezone(LOCAL_TZ).date()
    return value


LocalDate = Annotated[date, BeforeValidator(_to_local_date)]
ShortText = Annotated[str, Field(max_length=300)]
LongText = Annotated[str, Field(max_length=5000)]


class SnapshotModel(BaseModel):
    """camelCase on the wire like the HTTP contract; unknown fields are refused so typos surface."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        serialize_by_alias=True,
        str_strip_whitespace=True,
        frozen=True,
    )


class EmpresaSnapshot(SnapshotModel):
    id: ShortText
    nome: ShortText
    cnpj: ShortText | None = None
    endereco: ShortText | None = None
    telefone: ShortText | None = None
    email: ShortText | None = None
    #: optional logo as an inline PNG/JPEG data URI (never a URL: the renderer fetches nothing)
    logo_data_uri: str | None = Field(default=None, max_length=400_000)

    @field_validator("logo_data_uri")
    @classmethod
    def _only_inline_images(cls, value: str | None) -> str | None:
        if value is not None and not _LOGO_DATA_URI.match(value):
            raise ValueError("logoDataUri must be a data:image/png or data:image/jpeg base64 URI")
        return value


class ClienteSnapshot(SnapshotModel):
    id: ShortText
    nome: ShortText
    documento: ShortText | None = None  # CPF or CNPJ, as typed
    endereco: ShortText | None = None
    email: ShortText | None = None
    telefone: ShortText | None = None
    responsavel: ShortText | None = None


class PlacaSnapshot(SnapshotModel):
    id: ShortText
    numero: ShortText
    endereco: ShortText
    regiao: ShortText
    cidade: ShortText | None = None
    uf: ShortText | None = None
    tipo: ShortText | None = None
    largura_cm: int | None = Field(default=None, ge=0)
    altura_cm: int | None = Field(default=None, ge=0)
    #: the placa's own period when it differs from the document's
    inicio: LocalDate | None = None
    fim: LocalDate | None = None
    valor_centavos: int | None = Field(default=None, ge=0)


class Periodo(SnapshotModel):
    inicio: LocalDate
    fim: LocalDate

    @model_validator(mode="after")
    def _ordered(self) -> Periodo:
        if self.fim < self.inicio:
            raise ValueError("periodo.fim is before periodo.inicio")
        return self


class DocumentSnapshot(SnapshotModel):
    """Everything printed on a PI or a contrato."""

    kind: DocumentKind
    #: id of the PI or contrato in core-api
    source_id: ShortText
    #: the number people quote ("PI 2026/0042")
    numero: ShortText
    emitido_em: LocalDate
    empresa: EmpresaSnapshot
    cliente: ClienteSnapshot
    periodo: Periodo
    placas: list[PlacaSnapshot] = Field(min_length=1, max_length=5000)
    valor_total_centavos: int = Field(ge=0)
    produto: ShortText | None = None
    descricao: LongText | None = None
    condicoes_pagamento: LongText | None = None
    observacoes: LongText | None = None
    #: contrato only: extra clauses printed after the standard ones
    clausulas: list[LongText] = Field(default_factory=list, max_length=200)
    #: contrato only: the PI it was made from
    pi_numero: ShortText | None = None
