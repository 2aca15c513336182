"""Domain area: clientes. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

controllers: list = []
from core_api.domain.clientes.models import Cliente

documents: list = [Cliente]

__all__ = ["controllers", "documents"]
