"""Exclusive booking of placa-days on a server without transactions (FerretDB) — and on MongoDB.

The protocol (see docs/mongodb-vs-ferretdb.md):

1. The *owner* document — a standalone `Aluguel`, or a `PI` (plus its aluguéis) — is inserted with
   status `pendente`. Nothing `pendente` is ever shown to API clients.
2. One `PlacaOcupacao` per (placa, day) is inserted with `insert_many(ordered=True)`. Its `_id` is
   `"<placa_id>:<day>"`, so the server's primary-key uniqueness decides every race: a duplicate key
   means that day is taken. Slots are inserted in one global order (placa id, then day), so among
   requests that all overlap at least one always wins (no livelock of mutual losers).
3. Commit = inserting the decision document `{_id: booking id, decisao: "efetivada"}`. Then the
   owner becomes `ativo`/`em_andamento`, a PI's aluguéis `ativo`, the slots `confirmado`.
4. Any failure before the commit *abandons* the booking: the decision `abandonada` is inserted
   and only then are the owner and its slots deleted. The decision is an insert on a primary key,
   the one operation FerretDB v1 makes atomic, so a booking is either committed (slots kept) or
   abandoned (slots deleted) — never both, whoever (request or sweep) gets there first.
5. A crash can leave `pendente` owners/slots behind; `recuperar()` (run at start-up and
   periodically) abandons those older than the timeout or rolls committed ones forward, and
   finishes releases that a crash interrupted after a cancel.

Granularity: whole days in America/Sao_Paulo. A booking of [inicio, fim) occupies every local day
from the day of `inicio` to the day of the last instant before `fim` — so `fim` is exclusive:
`fim = 2026-02-01T00:00-03:00` ends on 31/01, and the next booking may start on 01/02.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bson import ObjectId
from litestar.exceptions import ValidationException
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from core_api.domain.alugueis.models import Aluguel, PlacaOcupacao
from core_api.lib import idempotency
from core_api.lib.documents import utcnow
from core_api.lib.repository import leases_of, lock_key

log = logging.getLogger(__name__)

TZ = ZoneInfo("America/Sao_Paulo")
#: longest period one booking may cover
MAX_DIAS = 731
#: most placa-days one request may book (a PI of 50 placas for ~13 months)
MAX_SLOTS = 20_000
#: dates outside these years are refused (and cannot overflow time-zone arithmetic)
MIN_ANO, MAX_ANO = 2000, 2200

SLOTS = PlacaOcupacao.Settings.name
ALUGUEIS = Aluguel.Settings.name
#: one document per booking, `_id` = the booking's id: the commit/abandon arbiter
DECISOES = "reserva_decisoes"
#: `PI.Settings.name`; not imported, because the pis package imports this module (tested equal)
PIS = "pis"

OWNER_COLLECTION = {"aluguel": ALUGUEIS, "pi": PIS}
COMMIT_STATUS = {"aluguel": "ativo", "pi": "em_andamento"}
COMMITTED = {"aluguel": {"ativo"}, "pi": {"em_andamento", "concluida"}}
CANCELLED = {"aluguel": "cancelado", "pi": "cancelada"}


class ReservaConflito(Exception):
    """Some of the requested placa-days are held by another booking."""

    def __init__(self, placa_ids: set[ObjectId]) -> None:
        super().__init__(f"placas taken: {sorted(map(str, placa_ids))}")
        self.placa_ids = placa_ids


class ReservaExpirada(Exception):
    """The booking took longer than the pending timeout and was abandoned by the sweep."""


@dataclass(frozen=True)
class ItemReserva:
    aluguel_id: ObjectId
    placa_id: ObjectId


def dias_do_periodo(inicio: datetime, fim: datetime) -> list[str]:
    """The local (America/Sao_Paulo) days that [inicio, fim) occupies, as ISO dates."""
    for name, value in (("inicio", inicio), ("fim", fim)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationException(f"{name} must carry a time zone (e.g. 2026-01-31T00:00:00-03:00)")
        if not MIN_ANO <= value.year <= MAX_ANO:
            raise ValidationException(f"{name} must be between the years {MIN_ANO} and {MAX_ANO}")
    if fim <= inicio:
        raise ValidationException("fim must be after inicio")
    first = inicio.astimezone(TZ).date()
    last = (fim - timedelta(microseconds=1)).astimezone(TZ).date()
    n = (last - first).days + 1
    if n > MAX_DIAS:
        raise ValidationException(f"a booking may cover at most {MAX_DIAS} days; this one covers {n}")
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


def slot_id(placa_id: ObjectId, dia: str) -> str:
    return f"{placa_id}:{dia}"


def _only_duplicates(exc: BulkWriteError | DuplicateKeyError) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and all(e.get("code") in (11000, 11001) for e in errors)


class Reservas:
    """The booking protocol over one database handle (the app's own client, so replicas race
    through their own connections, exactly as separate processes would)."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.db = db
        self.slots = db[SLOTS]

    # -- booking ----------------------------------------------------------------------------------
    @asynccontextmanager
    async def protegida(self, reserva_tipo: str, reserva_id: ObjectId) -> AsyncIterator[None]:
        """Wrap everything after the owner's insert: on any exception (a conflict, a lost
        connection, the request being cancelled) the booking is abandoned, then the error raised."""
        try:
            yield
        except BaseException:
            with suppress(Exception):
                await asyncio.shield(self.abandonar(reserva_tipo, reserva_id))
            raise

    async def reservar(
        self,
        *,
        empresa_id: ObjectId,
        reserva_tipo: str,
        reserva_id: ObjectId,
        itens: Sequence[ItemReserva],
        dias: Sequence[str],
    ) -> None:
        """Insert every (placa, day) slot as `pendente`, or raise `ReservaConflito`."""
        now = utcnow()
        docs = [
            {
                "_id": slot_id(item.placa_id, dia),
                "empresa_id": empresa_id,
                "placa_id": item.placa_id,
                "dia": dia,
                "aluguel_id": item.aluguel_id,
                "reserva_tipo": reserva_tipo,
                "reserva_id": reserva_id,
                "estado": "pendente",
                "criado_em": now,
            }
            for item in sorted(itens, key=lambda i: str(i.placa_id))
            for dia in dias
        ]
        try:
            await self.slots.insert_many(docs, ordered=True)
        except (BulkWriteError, DuplicateKeyError) as exc:
            if not _only_duplicates(exc):
                raise
            taken = await self.placas_ocupadas(
                [i.placa_id for i in itens], dias[0], dias[-1], excluir_reserva=reserva_id
            )
            raise ReservaConflito(taken) from None

    async def _decidir(self, reserva_id: ObjectId, decisao: str) -> str:
        """Record the booking's one decision (`efetivada` or `abandonada`); returns the decision
        that holds — ours, or the one another party inserted first.

        An *insert* with `_id = reserva_id` is the arbiter because primary-key uniqueness is the
        one thing FerretDB v1 enforces atomically: its conditional updates/deletes are
        read-then-write (two concurrent `$inc`s can both read the same value, see the docs).
        """
        try:
            await self.db[DECISOES].insert_one({"_id": reserva_id, "decisao": decisao, "em": utcnow()})
            return decisao
        except DuplicateKeyError:
            doc = await self.db[DECISOES].find_one({"_id": reserva_id})
            return doc["decisao"] if doc else decisao

    async def efetivar(self, reserva_tipo: str, reserva_id: ObjectId) -> None:
        """Commit: win the decision, then make the owner and its slots say so."""
        if await self._decidir(reserva_id, "efetivada") != "efetivada":
            raise ReservaExpirada(str(reserva_id))
        await self._confirmar(reserva_tipo, reserva_id)

    async def _write_owner(
        self, reserva_tipo: str, reserva_id: ObjectId, query: dict[str, Any], fields: dict[str, Any]
    ) -> None:
        """Write the owner (aluguel or PI) under its lease, as every other writer of it does
        (`TenantRepository.locked`): on FerretDB an unlocked update would write back a stale copy."""
        collection = OWNER_COLLECTION[reserva_tipo]
        async with leases_of(self.db).hold(lock_key(collection, reserva_id)) as lease:
            lease.check()
            await self.db[collection].update_one(
                {"_id": reserva_id, **query},
                {"$set": {**fields, "updated_at": utcnow()}, "$inc": {"version": 1}},
            )

    async def _confirmar(self, reserva_tipo: str, reserva_id: ObjectId) -> None:
        """Roll a decided (`efetivada`) booking forward; idempotent. A PI made as a draft
        (`efetivar_como: rascunho`) is committed as one."""
        status = COMMIT_STATUS[reserva_tipo]
        if reserva_tipo == "pi":
            owner = await self.db[PIS].find_one({"_id": reserva_id}, {"efetivar_como": 1})
            status = (owner or {}).get("efetivar_como") or status
        await self._write_owner(reserva_tipo, reserva_id, {"status": "pendente"}, {"status": status})
        if reserva_tipo == "pi":
            await self.db[ALUGUEIS].update_many(
                {"pi_id": reserva_id, "status": "pendente"},
                {"$set": {"status": "ativo", "updated_at": utcnow()}},
            )
        await self.slots.update_many(
            {"reserva_id": reserva_id, "estado": "pendente"}, {"$set": {"estado": "confirmado"}}
        )

    async def abandonar(self, reserva_tipo: str, reserva_id: ObjectId) -> str:
        """Resolve a booking that its request did not finish; idempotent.

        Wins the decision `abandonada` first and only then deletes anything, so a booking that
        committed concurrently keeps its slots (and is rolled forward instead).
        Returns what happened: `descartada`, `confirmada` or `liberada`.
        """
        if await self._decidir(reserva_id, "abandonada") == "efetivada":
            owner = await self.db[OWNER_COLLECTION[reserva_tipo]].find_one({"_id": reserva_id}, {"status": 1})
            if owner is not None and owner["status"] == CANCELLED[reserva_tipo]:
                await self.liberar_cancelada(reserva_tipo, reserva_id)
                return "liberada"
            await self._confirmar(reserva_tipo, reserva_id)
            return "confirmada"
        await self.db[OWNER_COLLECTION[reserva_tipo]].delete_one({"_id": reserva_id, "status": "pendente"})
        # decided `abandonada`: whatever it left behind belongs to nobody
        if reserva_tipo == "pi":
            await self.db[ALUGUEIS].delete_many({"pi_id": reserva_id, "status": "pendente"})
        await self.slots.delete_many({"reserva_id": reserva_id})
        return "descartada"

    # -- cancelling -------------------------------------------------------------------------------
    async def liberar_cancelada(self, reserva_tipo: str, reserva_id: ObjectId) -> None:
        """Free the days of a booking whose owner is already `cancelado`/`cancelada`; idempotent."""
        now = utcnow()
        if reserva_tipo == "pi":
            await self.db[ALUGUEIS].update_many(
                {"pi_id": reserva_id, "status": {"$in": ["pendente", "ativo"]}},
                {"$set": {"status": "cancelado", "cancelado_em": now, "updated_at": now}},
            )
        await self.slots.delete_many({"reserva_id": reserva_id})
        await self._write_owner(
            reserva_tipo, reserva_id, {"slots_liberados": False}, {"slots_liberados": True}
        )

    # -- queries ----------------------------------------------------------------------------------
    async def placas_ocupadas(
        self,
        placa_ids: Iterable[ObjectId],
        dia_de: str,
        dia_ate: str,
        *,
        empresa_id: ObjectId | None = None,
        excluir_reserva: ObjectId | None = None,
    ) -> set[ObjectId]:
        """Placas (among `placa_ids`, or all of `empresa_id`'s) holding any day in [dia_de, dia_ate]."""
        query: dict[str, Any] = {"dia": {"$gte": dia_de, "$lte": dia_ate}}
        ids = list(placa_ids)
        if ids:
            query["placa_id"] = {"$in": ids}
        if empresa_id is not None:
            query["empresa_id"] = empresa_id
        if excluir_reserva is not None:
            query["reserva_id"] = {"$ne": excluir_reserva}
        return set(await self.slots.distinct("placa_id", query))

    # -- recovery ---------------------------------------------------------------------------------
    async def recuperar(self, idade_maxima: timedelta) -> Counter[str]:
        """Finish or undo what crashed requests left: run at start-up and periodically.

        Abandons bookings still `pendente` after `idade_maxima` (their slots and owners go),
        rolls forward those that committed but did not confirm, and frees the days of cancelled
        bookings whose release was interrupted. Safe to run on every replica at once.
        """
        cutoff = utcnow() - idade_maxima
        pendentes: set[tuple[str, ObjectId]] = set()
        async for slot in self.slots.find(
            {"estado": "pendente", "criado_em": {"$lt": cutoff}}, {"reserva_tipo": 1, "reserva_id": 1}
        ):
            pendentes.add((slot["reserva_tipo"], slot["reserva_id"]))
        async for owner in self.db[ALUGUEIS].find(
            {"status": "pendente", "created_at": {"$lt": cutoff}}, {"pi_id": 1}
        ):
            if owner.get("pi_id") is None:
                pendentes.add(("aluguel", owner["_id"]))
            else:
                pendentes.add(("pi", owner["pi_id"]))
        async for owner in self.db[PIS].find(
            {"status": "pendente", "created_at": {"$lt": cutoff}}, {"_id": 1}
        ):
            pendentes.add(("pi", owner["_id"]))

        stats: Counter[str] = Counter()
        for reserva_tipo, reserva_id in pendentes:
            stats[await self.abandonar(reserva_tipo, reserva_id)] += 1

        for reserva_tipo, collection in OWNER_COLLECTION.items():
            query: dict[str, Any] = {"status": CANCELLED[reserva_tipo], "slots_liberados": False}
            if reserva_tipo == "aluguel":
                query["pi_id"] = None
            async for owner in self.db[collection].find(query, {"_id": 1}):
                await self.liberar_cancelada(reserva_tipo, owner["_id"])
                stats["liberada"] += 1
        # decisions only matter while their request may still be running; keep them a day
        pruned = await self.db[DECISOES].delete_many(
            {"em": {"$lt": utcnow() - max(timedelta(days=1), 100 * idade_maxima)}}
        )
        if pruned.deleted_count:
            stats["decisoes_removidas"] = pruned.deleted_count
        if stats:
            log.info("booking recovery", extra={"recovered": dict(stats)})
        return stats


async def varrer_periodicamente(db: AsyncDatabase[Any], idade_maxima: timedelta, intervalo: float) -> None:
    """The periodic sweep (FerretDB has no TTL indexes): bookings, and the old takeover tickets
    and expired Idempotency-Key answers of the persistence layer; errors are logged, never fatal."""
    reservas = Reservas(db)
    while True:
        await asyncio.sleep(intervalo)
        try:
            await reservas.recuperar(idade_maxima)
            await leases_of(db).prune()
            await idempotency.prune(db)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("booking sweep failed; retrying at the next interval")
