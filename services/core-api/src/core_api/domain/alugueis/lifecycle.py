"""Start-up recovery and the periodic sweep of abandoned bookings (hooks for infra_lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from litestar import Litestar

from core_api.domain.alugueis.booking import Reservas, varrer_periodicamente


async def start_booking_recovery(app: Litestar) -> None:
    """Undo bookings that crashed before the last shutdown, then sweep every interval.

    Only bookings older than the pending timeout are touched: other replicas may be booking now.
    """
    settings = app.state.settings
    idade = timedelta(seconds=settings.booking_pending_timeout_seconds)
    await Reservas(app.state.db).recuperar(idade)
    if app.state.get("booking_sweeper") is None:
        app.state.booking_sweeper = asyncio.create_task(
            varrer_periodicamente(app.state.db, idade, settings.booking_sweep_interval_seconds),
            name="booking-sweeper",
        )


async def stop_booking_recovery(app: Litestar) -> None:
    task: asyncio.Task[None] | None = app.state.get("booking_sweeper")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        app.state.booking_sweeper = None
