"""Domain area: clientes. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.clientes.controllers import ClienteController
from core_api.domain.clientes.models import Cliente

controllers: list = [ClienteController]
documents: list = [Cliente]

__all__ = ["controllers", "documents"]
