"""Domain area: alugueis. Exposes `controllers` (route handlers), `documents` (Beanie models) and
the lifespan hooks `on_ready` / `on_close` (booking recovery and its periodic sweep)."""

from __future__ import annotations

from core_api.domain.alugueis.controllers import AluguelController, DisponiveisController
from core_api.domain.alugueis.lifecycle import start_booking_recovery, stop_booking_recovery
from core_api.domain.alugueis.models import Aluguel, PlacaOcupacao

controllers: list = [AluguelController, DisponiveisController]
documents: list = [Aluguel, PlacaOcupacao]
on_ready: list = [start_booking_recovery]
on_close: list = [stop_booking_recovery]

__all__ = ["controllers", "documents", "on_close", "on_ready"]
