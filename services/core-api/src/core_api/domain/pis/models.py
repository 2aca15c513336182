"""PIs (pedidos de inserção): one cliente, several placas, one period, booked all-or-nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from core_api.lib.documents import TenantDocument

#: stored statuses. `pendente` only while its placas are being booked; `vencida` is never stored:
#: an `em_andamento` PI whose `fim` has passed is reported as `vencida` (computed on read).
PIStatus = Literal["pendente", "em_andamento", "concluida", "cancelada"]


class PI(TenantDocument):
    cliente_id: PydanticObjectId
    placa_ids: list[PydanticObjectId]
    #: one aluguel per placa, same order as `placa_ids`
    aluguel_ids: list[PydanticObjectId]
    inicio: datetime
    fim: datetime
    dia_inicio: str
    dia_fim: str
    valor_total_centavos: int = Field(ge=0)
    produto: str
    descricao: str | None = None
    status: PIStatus = "pendente"
    concluida_em: datetime | None = None
    cancelada_em: datetime | None = None
    slots_liberados: bool = False

    class Settings:
        name = "pis"
        indexes = [
            IndexModel([("empresa_id", ASCENDING), ("created_at", DESCENDING)], name="empresa_created"),
            IndexModel([("empresa_id", ASCENDING), ("cliente_id", ASCENDING)], name="empresa_cliente"),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="status_created"),
        ]
