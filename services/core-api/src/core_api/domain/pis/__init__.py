"""Domain area: pis. Exposes `controllers` (route handlers), `documents` (Beanie models) and the
lifespan hooks `on_ready` / `on_close` (the recovery of PI numbering and its periodic sweep)."""

from __future__ import annotations

from core_api.domain.pis.controllers import PIController
from core_api.domain.pis.models import PI
from core_api.domain.pis.numeracao import NumeroPI, start_numbering_recovery, stop_numbering_recovery

controllers: list = [PIController]
documents: list = [PI, NumeroPI]
on_ready: list = [start_numbering_recovery]
on_close: list = [stop_numbering_recovery]

__all__ = ["controllers", "documents", "on_close", "on_ready"]
