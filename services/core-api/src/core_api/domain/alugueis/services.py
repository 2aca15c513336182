"""Aluguéis and placa availability, always for the caller's empresa."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, ServiceUnavailableException, ValidationException
from pymongo.errors import DuplicateKeyError
from shared.auth import Principal
from shared.metrics import entity_created
from shared.transient import retrying

from core_api.domain.alugueis.booking import (
    ItemReserva,
    ReservaConflito,
    ReservaExpirada,
    Reservas,
    dias_do_periodo,
)
from core_api.domain.alugueis.models import Aluguel
from core_api.domain.alugueis.schemas import AluguelCreate
from core_api.domain.clientes.models import Cliente
from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.lib.documents import utcnow
from core_api.lib.errors import ConflictException, conflict, item
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository, new_id, parse_object_id

ALUGUEL_SORT = {
    "createdAt": "created_at",
    "inicio": "inicio",
    "fim": "fim",
    "valorCentavos": "valor_centavos",
}
PLACA_SORT = {"numero": "numero", "createdAt": "created_at", "valorMensalCentavos": "valor_mensal_centavos"}

#: in-flight bookings are not results yet: API reads never show them
VISIVEL: dict[str, Any] = {"status": {"$ne": "pendente"}}


def periodo_filter(inicio: datetime | None, fim: datetime | None) -> dict[str, Any]:
    """Documents whose [inicio, fim) overlaps the given (possibly open-ended) period."""
    for name, value in (("inicio", inicio), ("fim", fim)):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValidationException(f"{name} must carry a time zone (e.g. 2026-01-31T00:00:00-03:00)")
    if inicio is not None and fim is not None and fim <= inicio:
        raise ValidationException("fim must be after inicio")
    query: dict[str, Any] = {}
    if fim is not None:
        query["inicio"] = {"$lt": fim}
    if inicio is not None:
        query["fim"] = {"$gt": inicio}
    return query


def conflito(placas: Mapping[Any, Placa], exc: ReservaConflito, dias: list[str]) -> ConflictException:
    numeros = sorted(placas[p].numero for p in exc.placa_ids if p in placas)
    periodo = f"between {dias[0]} and {dias[-1]}"
    if not numeros:
        return conflict(f"the booking collided with a concurrent one {periodo}; retry", "busy")
    return conflict(
        f"placa(s) {', '.join(numeros)} already booked on some day {periodo}; nothing was booked",
        "taken",
        *(
            item("placa", id=str(p), label=placas[p].numero if p in placas else None)
            for p in sorted(exc.placa_ids, key=str)
        ),
    )


class AluguelService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.empresa_id = PydanticObjectId(principal.empresa_id)
        self.repo = TenantRepository(Aluguel, self.empresa_id, "aluguel")
        self.placas = TenantRepository(Placa, self.empresa_id, "placa")
        self.clientes = TenantRepository(Cliente, self.empresa_id, "cliente")
        self.reservas = Reservas(state.db)

    async def get(self, aluguel_id: str) -> Aluguel:
        oid = parse_object_id(aluguel_id, "aluguel")
        doc = await self.repo.find_one({"_id": oid, **VISIVEL})
        if doc is None:
            raise NotFoundException(f"aluguel {aluguel_id} not found")
        return doc

    async def list(
        self,
        *,
        placa_id: str | None,
        cliente_id: str | None,
        pi_id: str | None,
        status: str | None,
        inicio: datetime | None,
        fim: datetime | None,
        params: ListParams,
    ) -> tuple[list[Aluguel], int]:
        query: dict[str, Any] = {**VISIVEL, **periodo_filter(inicio, fim)}
        if placa_id is not None:
            query["placa_id"] = parse_object_id(placa_id, "placa")
        if cliente_id is not None:
            query["cliente_id"] = parse_object_id(cliente_id, "cliente")
        if pi_id is not None:
            query["pi_id"] = parse_object_id(pi_id, "PI")
        if status is not None:
            query["status"] = status
        return await self.repo.page(
            query,
            page=params.page,
            page_size=params.page_size,
            sort=db_sort(params.sort, ALUGUEL_SORT),
            allowed_sort=tuple(ALUGUEL_SORT.values()),
        )

    async def create(self, data: AluguelCreate) -> Aluguel:
        """Book the placa for the period, or 409 naming it; nothing stays behind on failure."""
        dias = dias_do_periodo(data.inicio, data.fim)
        placa = await self.placas.get(data.placa_id)
        await self.clientes.get(data.cliente_id)
        if not placa.ativa:
            raise ConflictException(f"placa {placa.numero} is inactive and cannot be rented")
        aluguel = Aluguel(
            id=new_id(Aluguel.get_collection_name()),
            empresa_id=self.empresa_id,
            placa_id=placa.id,
            cliente_id=PydanticObjectId(data.cliente_id),
            inicio=data.inicio,
            fim=data.fim,
            dia_inicio=dias[0],
            dia_fim=dias[-1],
            valor_centavos=data.valor_centavos,
            status="pendente",
        )
        try:
            await retrying(aluguel.insert, what="insert of an aluguel")
        except DuplicateKeyError:
            # the same `_id`: an earlier try of this insert, or this Idempotency-Key's first run
            return await self._created_before(aluguel.id)
        assert aluguel.id is not None and placa.id is not None  # set by insert / read from MongoDB
        try:
            async with self.reservas.protegida("aluguel", aluguel.id):
                await self.reservas.reservar(
                    empresa_id=self.empresa_id,
                    reserva_tipo="aluguel",
                    reserva_id=aluguel.id,
                    itens=[ItemReserva(aluguel.id, placa.id)],
                    dias=dias,
                )
                await self.reservas.efetivar("aluguel", aluguel.id)
        except ReservaConflito as exc:
            raise conflito({placa.id: placa}, exc, dias) from None
        except ReservaExpirada:
            raise ServiceUnavailableException("the booking took too long and was undone; retry") from None
        entity_created("aluguel")
        return await self.get(str(aluguel.id))

    async def _created_before(self, aluguel_id: Any) -> Aluguel:
        existing = await self.repo.find_one({"_id": aluguel_id})
        if existing is not None and existing.status != "pendente":
            return existing
        # its first run died mid-booking: the sweep abandons that booking (`Reservas.recuperar`)
        raise ConflictException(
            "an earlier request with this Idempotency-Key was interrupted while booking; "
            "retry with a new key",
            extra={"reason": "interrupted"},
        )

    async def cancel(self, aluguel_id: str) -> Aluguel:
        """Cancel an active standalone aluguel and free its days (a PI's aluguéis go with the PI).

        Compare-and-set under the aluguel's lease: of concurrent cancels exactly one wins."""
        await self.get(aluguel_id)  # 404 for pendente (invisible) ones
        async with self.repo.locked(aluguel_id) as doc:
            if doc.pi_id is not None:
                raise conflict(
                    f"this aluguel belongs to PI {doc.pi_id}; cancel the PI instead",
                    "state",
                    item("pi", id=str(doc.pi_id)),
                )
            if doc.status != "ativo":
                raise conflict(
                    f"aluguel {aluguel_id} is already {doc.status}",
                    "state",
                    item("aluguel", id=str(doc.id), status=doc.status),
                )
            now = utcnow()
            await self.repo.write(doc, {"status": "cancelado", "cancelado_em": now, "slots_liberados": False})
        # a crash right here is finished by the sweep (status cancelado, slots_liberados False)
        assert doc.id is not None  # read from MongoDB
        await self.reservas.liberar_cancelada("aluguel", doc.id)
        return await self.get(aluguel_id)


class DisponibilidadeService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.empresa_id = PydanticObjectId(principal.empresa_id)
        self.placas = TenantRepository(Placa, self.empresa_id, "placa")
        self.regioes = TenantRepository(Regiao, self.empresa_id, "região")
        self.reservas = Reservas(state.db)

    async def placas_livres(
        self,
        *,
        inicio: datetime,
        fim: datetime,
        regiao_id: str | None,
        params: ListParams,
    ) -> tuple[list[Placa], int]:
        """Active placas of the empresa with no day of [inicio, fim) booked (pending counts)."""
        dias = dias_do_periodo(inicio, fim)
        query: dict[str, Any] = {"ativa": True}
        if regiao_id is not None:
            regiao = await self.regioes.get(regiao_id)
            query["regiao_id"] = regiao.id
        ocupadas = await self.reservas.placas_ocupadas([], dias[0], dias[-1], empresa_id=self.empresa_id)
        if ocupadas:
            query["_id"] = {"$nin": list(ocupadas)}
        return await self.placas.page(
            query,
            page=params.page,
            page_size=params.page_size,
            sort=db_sort(params.sort, PLACA_SORT),
            allowed_sort=tuple(PLACA_SORT.values()),
            default_sort="numero",
        )
