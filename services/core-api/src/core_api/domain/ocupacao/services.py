"""The occupancy calendar: per placa, the day ranges its aluguéis hold in a window.

Read straight from the aluguéis (each one is a run of whole days, `dia_inicio`..`dia_fim`), so a
page costs three queries whatever the window: the placas of the page, their aluguéis that overlap the
window, and the names of the clientes involved.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from shared.auth import Principal
from shared.documents.snapshot import LOCAL_TZ

from core_api.domain.alugueis.models import Aluguel
from core_api.domain.clientes.models import Cliente
from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.lib.errors import invalid
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository

#: the longest window one request may ask for (a year and a day)
MAX_DIAS = 367


def parse_dia(value: str, name: str) -> date:
    """A day: `2027-03-01` (that day in the empresa's time zone) or an aware ISO datetime (the day it
    falls on there). Naive datetimes and anything else are a 400."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(
            f"{name} must be a day (2027-03-01) or an ISO datetime with a time zone", name, "query"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise invalid(f"{name} must carry a time zone, or be a plain day (2027-03-01)", name, "query")
    return moment.astimezone(LOCAL_TZ).date()


class OcupacaoService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.empresa_id = PydanticObjectId(principal.empresa_id)
        self.placas = TenantRepository(Placa, self.empresa_id, "placa")
        self.regioes = TenantRepository(Regiao, self.empresa_id, "região")
        self.alugueis = TenantRepository(Aluguel, self.empresa_id, "aluguel")
        self.clientes = TenantRepository(Cliente, self.empresa_id, "cliente")

    async def calendario(
        self, inicio: date, fim: date, regiao_id: str | None, params: ListParams
    ) -> tuple[list[dict[str, Any]], int]:
        if fim < inicio:
            raise invalid("fim is before inicio", "fim", "query")
        if (fim - inicio).days + 1 > MAX_DIAS:
            raise invalid(f"the window may span at most {MAX_DIAS} days", "fim", "query")
        query: dict[str, Any] = {}
        if regiao_id is not None:
            query["regiao_id"] = (await self.regioes.get(regiao_id)).id
        placas, total = await self.placas.page(
            query,
            page=params.page,
            page_size=params.page_size,
            sort=db_sort(params.sort, {"numero": "numero"}),
            allowed_sort=("numero",),
            default_sort="numero",
        )
        first, last = inicio.isoformat(), fim.isoformat()
        alugueis = await self.alugueis.find_many(
            {
                "placa_id": {"$in": [p.id for p in placas]},
                "status": {"$in": ["ativo", "pendente"]},
                "dia_inicio": {"$lte": last},
                "dia_fim": {"$gte": first},
            }
        )
        clientes: dict[Any, str] = {
            c.id: c.nome
            for c in await self.clientes.find_many({"_id": {"$in": list({a.cliente_id for a in alugueis})}})
        }
        window = (fim - inicio).days + 1
        by_placa: dict[Any, list[dict[str, Any]]] = {p.id: [] for p in placas}
        for a in sorted(alugueis, key=lambda a: a.dia_inicio):
            start = max(date.fromisoformat(a.dia_inicio), inicio)
            end = min(date.fromisoformat(a.dia_fim), fim)
            by_placa[a.placa_id].append(
                {
                    "inicio": start,
                    "fim": end,
                    "dias": (end - start).days + 1,
                    "aluguel_id": a.id,
                    "pi_id": a.pi_id,
                    "cliente_id": a.cliente_id,
                    "cliente": clientes.get(a.cliente_id),
                    "status": a.status,
                }
            )
        items = []
        for p in placas:
            ocupados = sum(f["dias"] for f in by_placa[p.id])
            items.append(
                {
                    "placa_id": p.id,
                    "numero": p.numero,
                    "regiao_id": p.regiao_id,
                    "ativa": p.ativa,
                    "faixas": by_placa[p.id],
                    "dias_ocupados": ocupados,
                    "taxa_ocupacao": round(ocupados / window, 4),
                }
            )
        return items, total
