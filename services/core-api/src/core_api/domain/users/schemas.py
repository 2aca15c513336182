"""HTTP bodies of /users. A password hash never appears in any of them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from core_api.lib.schemas import CamelModel, IdStr, PatchModel, StrictBoolean, example_config
from core_api.lib.validators import Email

Nome = Annotated[str, Field(min_length=1, max_length=120)]
Password = Annotated[
    str,
    Field(
        min_length=8, max_length=128, description="8 to 128 characters", json_schema_extra={"writeOnly": True}
    ),
]
Role = Literal["admin", "user"]


class UserCreate(CamelModel):
    nome: Nome
    email: Email
    password: Password
    role: Role = "user"

    model_config = example_config(
        {
            "nome": "Ana Souza",
            "email": "ana@empresa.com.br",
            "password": "s3nha-forte",
            "role": "user",
        }
    )


class UserUpdate(PatchModel):
    not_nullable = frozenset({"nome", "email", "role", "active", "password"})

    nome: Nome | None = None
    email: Email | None = None
    password: Password | None = None
    role: Role | None = None
    active: StrictBoolean | None = None

    model_config = example_config({"role": "admin"}, {"active": False})


class UserRead(CamelModel):
    id: IdStr
    empresa_id: IdStr
    nome: str
    email: str
    role: Role
    active: bool
    created_at: datetime
    updated_at: datetime
