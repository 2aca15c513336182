"""Domain area: contratos. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.contratos.clausulas import ClausulasController
from core_api.domain.contratos.controllers import ContratoController
from core_api.domain.contratos.models import ConjuntoClausulas, Contrato

controllers: list = [ContratoController, ClausulasController]
documents: list = [Contrato, ConjuntoClausulas]

__all__ = ["controllers", "documents"]
