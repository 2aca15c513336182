from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from core_api.lib.schemas import (
    CamelModel,
    IdStr,
    PatchModel,
    RepresentanteIn,
    RepresentanteRead,
    example_config,
)
from core_api.lib.validators import CpfOrCnpj, Email

NomeCliente = Annotated[str, Field(min_length=1, max_length=160)]
ShortText = Annotated[str, Field(max_length=120)]
Telefone = Annotated[str, Field(max_length=40, pattern=r"^[0-9+()\-\s.]*$")]
Endereco = Annotated[str, Field(max_length=300)]


class ClienteCreate(CamelModel):
    nome: NomeCliente
    documento: CpfOrCnpj | None = Field(
        default=None, description="CPF or CNPJ, punctuation optional; stored as digits"
    )
    email: Email | None = None
    telefone: Telefone | None = None
    responsavel: ShortText | None = None
    endereco: Endereco | None = None
    representante: RepresentanteIn | None = Field(
        default=None, description="the legal representative who signs for the cliente"
    )

    model_config = example_config(
        {
            "nome": "Padaria Pão de Ouro",
            "documento": "11.222.333/0001-81",
            "email": "contato@paodeouro.com.br",
            "telefone": "(11) 3333-4444",
            "responsavel": "João Pereira",
        }
    )


class ClienteUpdate(PatchModel):
    not_nullable = frozenset({"nome"})

    nome: NomeCliente | None = None
    documento: CpfOrCnpj | None = None
    email: Email | None = None
    telefone: Telefone | None = None
    responsavel: ShortText | None = None
    endereco: Endereco | None = None
    representante: RepresentanteIn | None = None

    model_config = example_config({"telefone": "(11) 98888-7777"})


class ClienteRead(CamelModel):
    id: IdStr
    nome: str
    documento: str | None
    email: str | None
    telefone: str | None
    responsavel: str | None
    endereco: str | None
    representante: RepresentanteRead | None = None
    created_at: datetime
    updated_at: datetime
