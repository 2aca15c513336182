"""HTTP bodies of /auth."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from core_api.domain.empresas.schemas import EmpresaCreate, EmpresaRead
from core_api.domain.users.schemas import Nome, Password, UserRead, check_new_password
from core_api.lib.schemas import CamelModel, example_config
from core_api.lib.validators import Email


class AdminCreate(CamelModel):
    nome: Nome
    email: Email
    password: Password

    _strong_password = field_validator("password")(check_new_password)


class RegisterRequest(CamelModel):
    empresa: EmpresaCreate
    admin: AdminCreate

    model_config = example_config(
        {
            "empresa": {"nome": "Outdoor Paulista Ltda", "cnpj": "11.222.333/0001-81"},
            "admin": {
                "nome": "Maria Silva",
                "email": "maria@outdoorpaulista.com.br",
                "password": "s3nha-forte",
            },
        }
    )


REGISTER_ACCEPTED = (
    "registration received: if this e-mail had no account, the empresa and its admin exist now and "
    "you can log in with the e-mail and password; this answer is the same whether or not it had one"
)


class RegisterAccepted(CamelModel):
    """The one answer of POST /auth/register, whether the e-mail was free or already had an account."""

    status: Literal["accepted"] = "accepted"
    detail: str = REGISTER_ACCEPTED


class LoginRequest(CamelModel):
    # not normalised as an Email: a malformed login must be a 401 like any other wrong login
    email: Annotated[str, Field(min_length=1, max_length=254)]
    # byte-exact, like the password it is compared with; not judged (it is an existing password)
    password: Annotated[str, StringConstraints(strip_whitespace=False), Field(min_length=1, max_length=128)]

    model_config = example_config({"email": "demo@outdoor.local", "password": "demo-outdoor-2025"})


class RefreshRequest(CamelModel):
    """The refresh token of the last pair (each one works once)."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]

    model_config = example_config({"refreshToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2lnbmF0dXJl"})


class TokenPair(CamelModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="lifetime of the access token in seconds")


class MeResponse(CamelModel):
    user: UserRead
    empresa: EmpresaRead
