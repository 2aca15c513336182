"""HTTP bodies of /users. A password hash never appears in any of them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from core_api.domain.users.passwords import password_weakness
from core_api.lib.schemas import CamelModel, IdStr, PatchModel, StrictBoolean, example_config
from core_api.lib.validators import Email

Nome = Annotated[str, Field(min_length=1, max_length=120)]
#: byte-exact (surrounding spaces are part of it, never stripped); refused when common or weak
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False),
    Field(
        min_length=8,
        max_length=128,
        description=(
            "8 to 128 characters, kept exactly as sent (spaces included); refused (400) when it is a common "
            "or breached password, a keyboard pattern, or close to the user's name or e-mail"
        ),
        json_schema_extra={"writeOnly": True},
    ),
]


def check_new_password(value: str | None, info: ValidationInfo) -> str | None:
    """Field validator for a new password: its strength, judged against the body's e-mail and name."""
    if value is not None and (
        problem := password_weakness(value, info.data.get("email"), info.data.get("nome"))
    ):
        raise ValueError(problem)
    return value


Role = Literal["admin", "user"]


class UserCreate(CamelModel):
    nome: Nome
    email: Email
    password: Password
    role: Role = "user"

    _strong_password = field_validator("password")(check_new_password)

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

    _strong_password = field_validator("password")(check_new_password)

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
