"""Domain area: placas. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

controllers: list = []
from core_api.domain.placas.models import Placa

documents: list = [Placa]

__all__ = ["controllers", "documents"]
