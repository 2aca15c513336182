"""Domain area: contratos. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.contratos.controllers import ContratoController
from core_api.domain.contratos.models import Contrato

controllers: list = [ContratoController]
documents: list = [Contrato]

__all__ = ["controllers", "documents"]
