"""Domain area: empresas. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.empresas.controllers import EmpresaController
from core_api.domain.empresas.models import Empresa

controllers: list = [EmpresaController]
documents: list = [Empresa]

__all__ = ["controllers", "documents"]
