from __future__ import annotations

from typing import Literal

from pymongo import ASCENDING, IndexModel

from core_api.lib.documents import TenantDocument


class User(TenantDocument):
    """A member of an empresa's staff. E-mail is unique across the platform (it is the login)."""

    nome: str
    email: str
    password_hash: str
    role: Literal["admin", "user"] = "user"
    active: bool = True
    #: copy of the user's token version in Redis (core_api.domain.users.revocation): what core-api
    #: checks tokens against while Redis is down
    token_version: int = 0

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("email", ASCENDING)], unique=True, name="email_unique"),
            IndexModel([("empresa_id", ASCENDING), ("created_at", ASCENDING)], name="empresa_created"),
        ]
