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


class RepresentanteSnapshot(SnapshotModel):
    """Who signs for a party: name, CPF and position."""

    nome: ShortText
    cpf: ShortText | None = None
    cargo: ShortText | None = None


class EmpresaSnapshot(SnapshotModel):
    id: ShortText
    nome: ShortText
    cnpj: ShortText | None = None
    endereco: ShortText | None = None
    #: the sede's city and state: the place on the signature line and the foro
    cidade: ShortText | None = None
    uf: ShortText | None = None
    representante: RepresentanteSnapshot | None = None
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
    representante: RepresentanteSnapshot | None = None


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
    #: discount on this placa's value (the item's net value is valor - desconto)
    desconto_centavos: int | None = Field(default=None, ge=0)


class Parcela(SnapshotModel):
    vencimento: LocalDate
    valor_centavos: int = Field(ge=0)


class Pagamento(SnapshotModel):
    """Payment terms: à vista (one payment) or parcelado (instalments with due dates). They choose
    the payment and rescission clauses of the contrato."""

    forma: Literal["avista", "parcelado"]
    parcelas: list[Parcela] = Field(min_length=1, max_length=60)
    #: boleto, PIX, transferência …
    meio: ShortText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Pagamento:
        if self.forma == "avista" and len(self.parcelas) != 1:
            raise ValueError("pagamento à vista has exactly one parcela")
        if self.forma == "parcelado" and len(self.parcelas) < 2:
            raise ValueError("pagamento parcelado has at least two parcelas")
        dates = [p.vencimento for p in self.parcelas]
        if dates != sorted(dates):
            raise ValueError("parcelas must be in due-date order")
        return self


class AgenciaSnapshot(SnapshotModel):
    """The advertising agency that placed the order, and its commission (basis points: 2000 = 20 %)."""

    nome: ShortText
    documento: ShortText | None = None
    comissao_bp: int = Field(default=2000, ge=0, le=10_000)


class Clausula(SnapshotModel):
    titulo: ShortText
    texto: LongText


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
    pagamento: Pagamento | None = None
    agencia: AgenciaSnapshot | None = None
    #: the material the campaign is printed on, who produces it and by when it is delivered
    material: Literal["lona", "papel", "adesivo", "digital"] | None = None
    producao_material: Literal["contratante", "contratada"] | None = None
    material_entrega_ate: LocalDate | None = None
    #: who authorised the PI for the cliente, and when
    autorizado_por: ShortText | None = None
    autorizado_em: LocalDate | None = None
    #: contrato only: the clause set it was signed with, resolved (so it always prints the same
    #: text); when absent the default set of `shared.documents.clausulas` is resolved at render time
    clausulas_contrato: list[Clausula] | None = Field(default=None, max_length=200)
    clausulas_versao: ShortText | None = None

    @model_validator(mode="after")
    def _payments_add_up(self) -> DocumentSnapshot:
        if self.pagamento is not None:
            total = sum(p.valor_centavos for p in self.pagamento.parcelas)
            if total != self.valor_total_centavos:
                raise ValueError(
                    f"the parcelas add up to {total} centavos but valorTotalCentavos is {self.valor_total_centavos}"
                )
        return self
