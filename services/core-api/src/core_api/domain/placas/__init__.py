"""Domain area: placas. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.placas.controllers import PlacaController
from core_api.domain.placas.models import Placa

controllers: list = [PlacaController]
documents: list = [Placa]

__all__ = ["controllers", "documents"]
