"""Domain area: users. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.users.controllers import UserController
from core_api.domain.users.models import User

controllers: list = [UserController]
documents: list = [User]

__all__ = ["controllers", "documents"]
