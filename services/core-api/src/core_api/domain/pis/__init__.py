"""Domain area: pis. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

from core_api.domain.pis.controllers import PIController
from core_api.domain.pis.models import PI

controllers: list = [PIController]
documents: list = [PI]

__all__ = ["controllers", "documents"]
