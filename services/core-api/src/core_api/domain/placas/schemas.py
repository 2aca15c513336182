from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from core_api.lib.schemas import (
    CamelModel,
    Centavos,
    IdStr,
    PatchModel,
    StrictBoolean,
    StrictInteger,
    example_config,
)
from core_api.lib.validators import Uf

Numero = Annotated[str, Field(min_length=1, max_length=40, description="unique in the empresa")]
ObjectIdText = Annotated[
    str, Field(pattern=r"^[0-9a-fA-F]{24}$", description="id of a região of your empresa")
]
Endereco = Annotated[str, Field(min_length=1, max_length=300)]
ShortText = Annotated[str, Field(max_length=120)]
Centimetros = Annotated[StrictInteger, Field(ge=1, le=100_000)]
Descricao = Annotated[str, Field(max_length=2000)]

_EXAMPLE = {
    "numero": "SP-0101",
    "regiaoId": "665f1c2e8a4b2c0012345678",
    "endereco": "Av. Paulista, 1578 - Bela Vista",
    "cidade": "São Paulo",
    "uf": "SP",
    "tipo": "outdoor",
    "larguraCm": 900,
    "alturaCm": 300,
    "valorMensalCentavos": 250000,
    "ativa": True,
}


class PlacaCreate(CamelModel):
    numero: Numero
    regiao_id: ObjectIdText
    endereco: Endereco
    cidade: ShortText | None = None
    uf: Uf | None = None
    tipo: ShortText | None = Field(default=None, description="e.g. outdoor, frontlight, painel digital")
    largura_cm: Centimetros | None = None
    altura_cm: Centimetros | None = None
    valor_mensal_centavos: Centavos = 0
    ativa: StrictBoolean = True
    descricao: Descricao | None = None

    model_config = example_config(_EXAMPLE)


class PlacaUpdate(PatchModel):
    not_nullable = frozenset({"numero", "regiao_id", "endereco", "valor_mensal_centavos", "ativa"})

    numero: Numero | None = None
    regiao_id: ObjectIdText | None = None
    endereco: Endereco | None = None
    cidade: ShortText | None = None
    uf: Uf | None = None
    tipo: ShortText | None = None
    largura_cm: Centimetros | None = None
    altura_cm: Centimetros | None = None
    valor_mensal_centavos: Centavos | None = None
    ativa: StrictBoolean | None = None
    descricao: Descricao | None = None

    model_config = example_config({"valorMensalCentavos": 275000, "ativa": False})


class PlacaRead(CamelModel):
    id: IdStr
    numero: str
    regiao_id: IdStr
    endereco: str
    cidade: str | None
    uf: str | None
    tipo: str | None
    largura_cm: int | None
    altura_cm: int | None
    valor_mensal_centavos: int
    ativa: bool
    descricao: str | None
    created_at: datetime
    updated_at: datetime
