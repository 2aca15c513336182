"""HTTP bodies of /alugueis and /placas/disponiveis."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from core_api.domain.alugueis.models import Aluguel
from core_api.domain.placas.models import Placa
from core_api.lib.schemas import CamelModel, FimDatetime, InicioDatetime, example_config

ObjectIdStr = Field(min_length=1, max_length=64)


def _whole_int(value: Any) -> Any:
    # Litestar validates bodies with `model_validate(strict=False)`, which overrides a field's
    # `strict=True`; money must still refuse "100", 10.5 and true instead of coercing them
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number of centavos (an integer, not a string or decimal)")
    return value


#: integer cents ≥ 0, refusing strings, floats and booleans even under lax validation
Centavos = Annotated[int, BeforeValidator(_whole_int), Field(ge=0, le=10**13)]


class PeriodoMixin(CamelModel):
    inicio: InicioDatetime = Field(
        description="first day (`2027-03-01`, in the empresa's time zone) or an aware ISO datetime"
    )
    fim: FimDatetime = Field(
        description="a day, the last one booked (inclusive: `2027-03-31`), or an aware ISO datetime, the "
        "exclusive end (`2027-04-01T00:00:00-03:00`)"
    )

    @model_validator(mode="after")
    def _fim_after_inicio(self) -> PeriodoMixin:
        if self.fim <= self.inicio:
            raise ValueError("fim must be after inicio")
        return self


class AluguelCreate(PeriodoMixin):
    """Rent one placa to one cliente over [inicio, fim) — whole local days, `fim` exclusive."""

    placa_id: str = ObjectIdStr
    cliente_id: str = ObjectIdStr
    valor_centavos: Centavos

    model_config = example_config(
        {
            "placaId": "665f1c2e8a1b2c3d4e5f6a70",
            "clienteId": "665f1c2e8a1b2c3d4e5f6a71",
            "inicio": "2027-03-01T00:00:00-03:00",
            "fim": "2027-04-01T00:00:00-03:00",
            "valorCentavos": 690000,
        },
        {
            "placaId": "665f1c2e8a1b2c3d4e5f6a70",
            "clienteId": "665f1c2e8a1b2c3d4e5f6a71",
            "inicio": "2027-05-01T00:00:00-03:00",
            "fim": "2027-05-15T00:00:00-03:00",
            "valorCentavos": 345000,
        },
    )


class AluguelRead(CamelModel):
    id: str
    placa_id: str
    cliente_id: str
    pi_id: str | None
    inicio: datetime
    fim: datetime
    #: first and last occupied day in America/Sao_Paulo (both inclusive)
    dia_inicio: str
    dia_fim: str
    valor_centavos: int
    status: Literal["pendente", "ativo", "cancelado"]
    cancelado_em: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: Aluguel) -> AluguelRead:
        return cls(
            id=str(doc.id),
            placa_id=str(doc.placa_id),
            cliente_id=str(doc.cliente_id),
            pi_id=str(doc.pi_id) if doc.pi_id else None,
            inicio=doc.inicio,
            fim=doc.fim,
            dia_inicio=doc.dia_inicio,
            dia_fim=doc.dia_fim,
            valor_centavos=doc.valor_centavos,
            status=doc.status,
            cancelado_em=doc.cancelado_em,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )


class PlacaDisponivel(CamelModel):
    """A placa free for the whole requested period."""

    id: str
    numero: str
    regiao_id: str
    endereco: str
    cidade: str | None
    uf: str | None
    tipo: str | None
    largura_cm: int | None
    altura_cm: int | None
    valor_mensal_centavos: int

    @classmethod
    def from_doc(cls, doc: Placa) -> PlacaDisponivel:
        return cls(
            id=str(doc.id),
            numero=doc.numero,
            regiao_id=str(doc.regiao_id),
            endereco=doc.endereco,
            cidade=doc.cidade,
            uf=doc.uf,
            tipo=doc.tipo,
            largura_cm=doc.largura_cm,
            altura_cm=doc.altura_cm,
            valor_mensal_centavos=doc.valor_mensal_centavos,
        )
