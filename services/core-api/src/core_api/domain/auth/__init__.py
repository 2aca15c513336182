"""Domain area: auth. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.auth.controllers import AuthController

controllers: list = [AuthController]
documents: list = []

__all__ = ["controllers", "documents"]
