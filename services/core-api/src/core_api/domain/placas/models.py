from __future__ import annotations

from beanie import PydanticObjectId
from pymongo import ASCENDING, IndexModel

from core_api.lib.documents import TenantDocument


class Placa(TenantDocument):
    """A billboard. `numero` is unique within an empresa; it belongs to one região."""

    numero: str
    regiao_id: PydanticObjectId
    endereco: str
    cidade: str | None = None
    uf: str | None = None
    tipo: str | None = None
    largura_cm: int | None = None
    altura_cm: int | None = None
    valor_mensal_centavos: int = 0
    ativa: bool = True
    descricao: str | None = None

    class Settings:
        name = "placas"
        indexes = [
            IndexModel(
                [("empresa_id", ASCENDING), ("numero", ASCENDING)], unique=True, name="empresa_numero_unique"
            ),
            IndexModel([("empresa_id", ASCENDING), ("regiao_id", ASCENDING)], name="empresa_regiao"),
        ]
