from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from core_api.lib.schemas import CamelModel, IdStr, PatchModel, example_config

NomeRegiao = Annotated[str, Field(min_length=1, max_length=120)]
Descricao = Annotated[str, Field(max_length=2000)]


class RegiaoCreate(CamelModel):
    nome: NomeRegiao
    descricao: Descricao | None = None

    model_config = example_config({"nome": "Zona Sul", "descricao": "Moema, Vila Mariana, Saúde"})


class RegiaoUpdate(PatchModel):
    not_nullable = frozenset({"nome"})

    nome: NomeRegiao | None = None
    descricao: Descricao | None = None

    model_config = example_config({"descricao": "Moema e Ibirapuera"})


class RegiaoRead(CamelModel):
    id: IdStr
    nome: str
    descricao: str | None
    created_at: datetime
    updated_at: datetime
