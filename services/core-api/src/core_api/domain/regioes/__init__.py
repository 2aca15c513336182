"""Domain area: regioes. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.regioes.controllers import RegiaoController
from core_api.domain.regioes.models import Regiao

controllers: list = [RegiaoController]
documents: list = [Regiao]

__all__ = ["controllers", "documents"]
