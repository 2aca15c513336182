"""Aluguéis (rentals of one placa over a period) and the day slots that make them exclusive."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from core_api.lib.documents import TenantDocument, utcnow

#: `pendente` while its slots are being booked (never reported as a success), `ativo` once the
#: booking committed, `cancelado` after a cancel (its slots are then released)
AluguelStatus = Literal["pendente", "ativo", "cancelado"]


class Aluguel(TenantDocument):
    """One placa rented to one cliente over [inicio, fim), by whole days (see `booking`)."""

    placa_id: PydanticObjectId
    cliente_id: PydanticObjectId
    #: set when the aluguel was created by a PI (it is then cancelled through the PI)
    pi_id: PydanticObjectId | None = None
    inicio: datetime
    fim: datetime
    #: first and last occupied day (America/Sao_Paulo), ISO dates, both inclusive
    dia_inicio: str
    dia_fim: str
    valor_centavos: int = Field(ge=0)
    status: AluguelStatus = "pendente"
    cancelado_em: datetime | None = None
    #: False between "cancelled" and "its slots deleted"; the sweep finishes what a crash left
    slots_liberados: bool = False

    class Settings:
        name = "alugueis"
        indexes = [
            IndexModel([("empresa_id", ASCENDING), ("created_at", DESCENDING)], name="empresa_created"),
            IndexModel([("empresa_id", ASCENDING), ("placa_id", ASCENDING)], name="empresa_placa"),
            IndexModel([("empresa_id", ASCENDING), ("cliente_id", ASCENDING)], name="empresa_cliente"),
            IndexModel([("pi_id", ASCENDING)], name="pi"),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="status_created"),
        ]


SlotEstado = Literal["pendente", "confirmado"]


class PlacaOcupacao(Document):
    """One occupied day of one placa: the unit of exclusivity.

    `_id` is `"<placa_id>:<YYYY-MM-DD>"`, so the primary key itself (unique on every
    MongoDB-wire server, FerretDB included) guarantees that a placa-day is held by at most one
    booking. Written only through `core_api.domain.alugueis.booking`.
    """

    id: str  # type: ignore[assignment]
    empresa_id: PydanticObjectId
    placa_id: PydanticObjectId
    dia: str
    aluguel_id: PydanticObjectId
    #: the document whose status commits the booking: the aluguel itself or its PI
    reserva_tipo: Literal["aluguel", "pi"]
    reserva_id: PydanticObjectId
    estado: SlotEstado = "pendente"
    criado_em: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "placa_ocupacoes"
        indexes = [
            IndexModel([("reserva_id", ASCENDING)], name="reserva"),
            IndexModel([("aluguel_id", ASCENDING)], name="aluguel"),
            IndexModel([("estado", ASCENDING), ("criado_em", ASCENDING)], name="estado_criado"),
            IndexModel([("empresa_id", ASCENDING), ("dia", ASCENDING)], name="empresa_dia"),
            IndexModel([("placa_id", ASCENDING), ("dia", ASCENDING)], name="placa_dia"),
        ]
