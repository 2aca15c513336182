"""Domain area: ocupação — the occupancy calendar of the empresa's placas (read-only)."""

from __future__ import annotations

from core_api.domain.ocupacao.controllers import OcupacaoController

controllers: list = [OcupacaoController]
documents: list = []

__all__ = ["controllers", "documents"]
