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
from core_api.lib.validators import Cnpj, Email, Uf

NomeEmpresa = Annotated[str, Field(min_length=1, max_length=160)]
Endereco = Annotated[str, Field(max_length=300)]
Cidade = Annotated[str, Field(min_length=1, max_length=120)]
Telefone = Annotated[str, Field(max_length=40, pattern=r"^[0-9+()\-\s.]*$")]


class EmpresaCreate(CamelModel):
    nome: NomeEmpresa
    cnpj: Cnpj | None = Field(default=None, description="14 digits, punctuation optional; stored as digits")


class EmpresaUpdate(PatchModel):
    """The empresa's profile as printed on its PIs and contratos; omitted fields are unchanged, null
    clears an optional one."""

    not_nullable = frozenset({"nome"})

    nome: NomeEmpresa | None = None
    cnpj: Cnpj | None = None
    endereco: Endereco | None = Field(default=None, description="the sede's street address")
    cidade: Cidade | None = Field(
        default=None, description="the sede's city: the foro and the place of signature"
    )
    uf: Uf | None = None
    telefone: Telefone | None = None
    email: Email | None = None
    representante: RepresentanteIn | None = Field(
        default=None, description="who signs contratos for the empresa"
    )

    model_config = example_config(
        {
            "nome": "Outdoor Paulista Ltda",
            "endereco": "Av. Brigadeiro Faria Lima, 1500, cj. 42 — Jardim Paulistano",
            "cidade": "São Paulo",
            "uf": "SP",
            "telefone": "(11) 3333-4444",
            "email": "comercial@outdoorpaulista.com.br",
            "representante": {"nome": "Ana Lima", "cpf": "123.456.789-09", "cargo": "Diretora"},
        }
    )


class LogoRead(CamelModel):
    content_type: str
    length: int
    sha256: str
    url: str = "/api/v1/empresa/logo"


class EmpresaRead(CamelModel):
    id: IdStr
    nome: str
    cnpj: str | None
    endereco: str | None = None
    cidade: str | None = None
    uf: str | None = None
    telefone: str | None = None
    email: str | None = None
    representante: RepresentanteRead | None = None
    logo: LogoRead | None = None
    created_at: datetime
