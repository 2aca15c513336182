"""Regiões of the caller's empresa."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from shared.auth import Principal

from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.lib.cache import TenantCache
from core_api.lib.crud import TenantCrudService
from core_api.lib.errors import conflict, item
from core_api.lib.repository import TenantRepository

#: the response cache area of `GET /regioes` (bumped by every write of a região; placas only name
#: their região by id, so these writes leave the placas area alone)
AREA = "regioes"
REGIOES_TTL = 1800  # 30 minutes (the seed's)
SORT_FIELDS = {"nome": "nome", "createdAt": "created_at", "updatedAt": "updated_at"}


class RegiaoRepository(TenantRepository[Regiao]):
    label = "região"
    unique_fields = {"empresa_nome_unique": "nome"}


class RegiaoService(TenantCrudService[Regiao]):
    model = Regiao
    repository = RegiaoRepository
    sort_fields = SORT_FIELDS
    search_fields = ["nome", "descricao"]
    default_sort = "nome"
    entity = "regiao"
    cache_area = AREA

    def __init__(self, principal: Principal, state: State) -> None:
        super().__init__(principal, state)
        self.placas = TenantRepository(Placa, principal.empresa_id, label="placa")
        self.cache: TenantCache = state.cache

    async def create(self, data: Any) -> Regiao:
        try:
            return await super().create(data)
        finally:
            await self.cache.invalidate(self.principal.empresa_id, [AREA])

    async def update(self, doc_id: str, data: Any) -> Regiao:
        try:
            return await super().update(doc_id, data)
        finally:
            await self.cache.invalidate(self.principal.empresa_id, [AREA])

    async def delete(self, regiao_id: str) -> None:
        """Refused (409) while placas belong to the região.

        Without transactions the check and the delete are two steps; a placa created in between
        would be orphaned, so the count is repeated after the delete and the região restored if
        one appeared (placas re-check their região after insert for the opposite order).
        """
        regiao = await self.repo.get(regiao_id)
        await self._refuse_if_used(regiao)
        try:
            await self.repo.delete(regiao.id)  # type: ignore[arg-type]
            if await self.placas.count({"regiao_id": regiao.id}):
                await regiao.insert()
                await self._refuse_if_used(regiao)
        finally:
            await self.cache.invalidate(self.principal.empresa_id, [AREA])

    async def _refuse_if_used(self, regiao: Regiao) -> None:
        n = await self.placas.count({"regiao_id": regiao.id})
        if n:
            raise conflict(
                f"região {regiao.nome!r} still has {n} placa(s); move or delete them first",
                "in_use",
                item("placa", count=n),
            )
