"""PI numbers per empresa and year (`PI-2027-000123`): distinct, gapless, and crash-safe.

A number is **reserved** by inserting a `NumeroPI` whose `_id` is `{empresa}:{ano}:{numero}` and
which names the PI (`pi_id`, unique too): the insert is the one atomic operation FerretDB v1 has,
so of two PIs reaching for the same number exactly one gets it (the other takes the next), and a PI
never holds two numbers. Only then is the number **written** on the PI (under the PI's lease) and
the reservation marked `gravado`.

Numbering runs once the PI's booking has committed, so a reserved number always has its PI: a
process that dies between the two steps leaves a reservation not yet written, never a number
nobody will use. `recuperar()` (at start-up and periodically) completes those, and numbers the
committed PIs that died before reserving; numbers stay gapless because each is the highest
reserved plus one. (On MongoDB proper a transaction could do both steps at once; the reservation
works on both.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from beanie import Document, PydanticObjectId, SortDirection
from litestar import Litestar
from litestar.exceptions import ServiceUnavailableException
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from core_api.domain.alugueis.booking import TZ
from core_api.domain.pis.models import PI
from core_api.lib.documents import utcnow
from core_api.lib.errors import ConflictException
from core_api.lib.repository import TenantRepository

log = logging.getLogger(__name__)

#: attempts at reserving a number before giving up (each lost attempt means another PI got one)
MAX_TENTATIVAS = 200


class NumeroPI(Document):
    """A reserved PI number (see the module doc)."""

    id: str  # type: ignore[assignment]  # "{empresa_id}:{ano}:{numero:06d}"
    empresa_id: PydanticObjectId
    ano: int
    numero: int
    pi_id: PydanticObjectId
    reservado_em: datetime = Field(default_factory=utcnow)
    #: the number is on the PI
    gravado: bool = False

    class Settings:
        name = "pi_numeros"
        indexes = [
            IndexModel([("pi_id", ASCENDING)], name="pi_unico", unique=True),
            IndexModel(
                [("empresa_id", ASCENDING), ("ano", ASCENDING), ("numero", DESCENDING)],
                name="empresa_ano_numero",
            ),
            IndexModel([("gravado", ASCENDING), ("reservado_em", ASCENDING)], name="pendentes"),
        ]


def codigo(ano: int, numero: int) -> str:
    return f"PI-{ano}-{numero:06d}"


def ano_do(pi: PI) -> int:
    """The year a PI is numbered in: the year it was created, in the empresa's time zone (a PI
    numbered late by the recovery keeps its year)."""
    return pi.created_at.astimezone(TZ).year


class NumeracaoPI:
    """Reserve and write PI numbers of one empresa."""

    def __init__(self, empresa_id: PydanticObjectId) -> None:
        self.empresa_id = empresa_id
        self.pis = TenantRepository(PI, empresa_id, "PI")

    async def numerar(self, pi_id: PydanticObjectId) -> None:
        """Reserve the PI's number (or find the one it has) and write it on the PI; idempotent."""
        async with self.pis.locked(pi_id) as pi:
            if pi.numero is not None:
                return
            reserva = await self.reservar(pi)
            await self.gravar(pi, reserva)

    async def reservar(self, pi: PI) -> NumeroPI:
        """The PI's reservation: the one it already has, or the next free number of its year."""
        assert pi.id is not None  # read from MongoDB
        ano = ano_do(pi)
        for _ in range(MAX_TENTATIVAS):
            existente = await NumeroPI.find_one({"pi_id": pi.id})
            if existente is not None:
                return existente
            numero = await self._ultimo(ano) + 1
            reserva = NumeroPI(
                id=f"{self.empresa_id}:{ano}:{numero:06d}",
                empresa_id=self.empresa_id,
                ano=ano,
                numero=numero,
                pi_id=pi.id,
            )
            try:
                await reserva.insert()
                return reserva
            except DuplicateKeyError:
                continue  # the number went to another PI (or this PI got one meanwhile): look again
        raise RuntimeError(f"could not reserve a number for PI {pi.id} in {MAX_TENTATIVAS} attempts")

    async def gravar(self, pi: PI, reserva: NumeroPI) -> None:
        """Write the reserved number on the PI (held with `locked`), then mark it written."""
        await self.pis.write(
            pi, {"ano": reserva.ano, "numero": reserva.numero, "codigo": codigo(reserva.ano, reserva.numero)}
        )
        await NumeroPI.find_one({"_id": reserva.id}).update({"$set": {"gravado": True}})

    async def _ultimo(self, ano: int) -> int:
        """The highest number of the year: reserved, or on a PI numbered before reservations existed."""
        reservado = (
            await NumeroPI.find({"empresa_id": self.empresa_id, "ano": ano})
            .sort([("numero", SortDirection.DESCENDING)])
            .limit(1)
            .to_list()
        )
        antigo = await self.pis.find_many_sorted(
            {"ano": ano}, sort=[("numero", SortDirection.DESCENDING)], limit=1
        )
        return max([r.numero for r in reservado] + [p.numero or 0 for p in antigo] + [0])


async def _numerar(empresa_id: PydanticObjectId, pi_id: PydanticObjectId) -> bool:
    """One PI of the recovery; a PI busy (its request numbering it now) is left for the next sweep."""
    try:
        await NumeracaoPI(empresa_id).numerar(pi_id)
    except (ConflictException, ServiceUnavailableException) as exc:
        log.warning("PI %s: numbering left for the next sweep: %s", pi_id, exc)
        return False
    return True


async def recuperar(idade_minima: timedelta) -> int:
    """Finish numbering that crashed requests left: reservations not yet written on their PI, and
    committed PIs without a number. Only what is older than `idade_minima` (requests may be
    numbering now; racing them is safe, just wasted). Returns how many PIs got their number."""
    cutoff = utcnow() - idade_minima
    feitos = 0
    for reserva in await NumeroPI.find({"gravado": False, "reservado_em": {"$lt": cutoff}}).to_list():
        pi = await TenantRepository(PI, reserva.empresa_id, "PI").find_one({"_id": reserva.pi_id})
        if pi is None:
            # numbering follows the booking's commit, and PIs are never deleted: not reachable
            log.error("PI number %s is reserved for PI %s, which does not exist", reserva.id, reserva.pi_id)
            continue
        if await _numerar(reserva.empresa_id, reserva.pi_id):
            await NumeroPI.find_one({"_id": reserva.id}).update({"$set": {"gravado": True}})
            feitos += 1
    # committed (no longer pendente), made to be numbered (`numerar`), still without a number
    sem_numero = PI.find(
        {"numero": None, "numerar": True, "status": {"$ne": "pendente"}, "created_at": {"$lt": cutoff}}
    )
    async for pi in sem_numero:
        assert pi.id is not None
        feitos += await _numerar(pi.empresa_id, pi.id)
    if feitos:
        log.warning("PI numbering recovered", extra={"pis": feitos})
    return feitos


async def recuperar_periodicamente(idade: timedelta, intervalo: float) -> None:
    while True:
        await asyncio.sleep(intervalo)
        try:
            await recuperar(idade)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("PI numbering recovery failed; retrying at the next interval")


async def start_numbering_recovery(app: Litestar) -> None:
    """Complete what crashed before the last shutdown, then every sweep interval (as bookings)."""
    settings = app.state.settings
    idade = timedelta(seconds=settings.booking_pending_timeout_seconds)
    try:
        await recuperar(idade)
    except Exception:
        log.exception("PI numbering recovery at start-up failed; the periodic one retries")
    if app.state.get("numbering_sweeper") is None:
        app.state.numbering_sweeper = asyncio.create_task(
            recuperar_periodicamente(idade, settings.booking_sweep_interval_seconds),
            name="pi-numbering-sweeper",
        )


async def stop_numbering_recovery(app: Litestar) -> None:
    task: asyncio.Task[None] | None = app.state.get("numbering_sweeper")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        app.state.numbering_sweeper = None
