"""Contratos: at most one per PI, numbered per empresa."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from core_api.lib.documents import TenantDocument


class Contrato(TenantDocument):
    pi_id: PydanticObjectId
    cliente_id: PydanticObjectId
    #: per-empresa sequence (1, 2, ...) from an atomic counter document; gaps are possible
    numero: int
    #: human form of `numero`, e.g. "CT-2026-000042" (year of issue)
    codigo: str
    inicio: datetime
    fim: datetime
    valor_total_centavos: int
    produto: str

    class Settings:
        name = "contratos"
        indexes = [
            # one contrato per PI, enforced by the server even under concurrent requests
            IndexModel([("pi_id", ASCENDING)], unique=True, name="pi_unique"),
            IndexModel(
                [("empresa_id", ASCENDING), ("numero", ASCENDING)], unique=True, name="empresa_numero"
            ),
            IndexModel([("empresa_id", ASCENDING), ("created_at", DESCENDING)], name="empresa_created"),
        ]
