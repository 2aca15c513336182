from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from core_api.lib.documents import TenantDocument


class Regiao(TenantDocument):
    """A região (area of a city) grouping placas."""

    nome: str
    descricao: str | None = None

    class Settings:
        name = "regioes"
        indexes = [
            IndexModel(
                [("empresa_id", ASCENDING), ("nome", ASCENDING)], unique=True, name="empresa_nome_unique"
            ),
        ]
