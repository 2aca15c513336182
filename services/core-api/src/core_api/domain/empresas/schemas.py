from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from core_api.lib.schemas import CamelModel, IdStr, PatchModel, example_config
from core_api.lib.validators import Cnpj

NomeEmpresa = Annotated[str, Field(min_length=1, max_length=160)]


class EmpresaCreate(CamelModel):
    nome: NomeEmpresa
    cnpj: Cnpj | None = Field(default=None, description="14 digits, punctuation optional; stored as digits")


class EmpresaUpdate(PatchModel):
    not_nullable = frozenset({"nome"})

    nome: NomeEmpresa | None = None
    cnpj: Cnpj | None = None

    model_config = example_config({"nome": "Outdoor Paulista Ltda"})


class EmpresaRead(CamelModel):
    id: IdStr
    nome: str
    cnpj: str | None
    created_at: datetime
