from __future__ import annotations

from datetime import date

from core_api.lib.schemas import CamelModel, IdStr


class Faixa(CamelModel):
    """A run of booked days of one placa (both ends inclusive), with who holds it."""

    inicio: date
    fim: date
    dias: int
    aluguel_id: IdStr
    pi_id: IdStr | None
    cliente_id: IdStr
    cliente: str | None
    status: str


class OcupacaoPlaca(CamelModel):
    placa_id: IdStr
    numero: str
    regiao_id: IdStr
    ativa: bool
    faixas: list[Faixa]
    dias_ocupados: int
    #: booked days / days in the window, 0..1
    taxa_ocupacao: float


class Ocupacao(CamelModel):
    """`GET /ocupacao`: a page of placas with their booked day ranges in [inicio, fim] (days,
    inclusive, in the empresa's time zone)."""

    inicio: date
    fim: date
    dias: int
    items: list[OcupacaoPlaca]
    total: int
    page: int
    page_size: int
