"""Regiões of the caller's empresa."""

from __future__ import annotations

from litestar.datastructures import State
from shared.auth import Principal

from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.lib.crud import TenantCrudService
from core_api.lib.errors import conflict, item
from core_api.lib.repository import TenantRepository

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

    def __init__(self, principal: Principal, state: State) -> None:
        super().__init__(principal, state)
        self.placas = TenantRepository(Placa, principal.empresa_id, label="placa")

    async def delete(self, regiao_id: str) -> None:
        """Refused (409) while placas belong to the região.

        Without transactions the check and the delete are two steps; a placa created in between
        would be orphaned, so the count is repeated after the delete and the região restored if
        one appeared (placas re-check their região after insert for the opposite order).
        """
        regiao = await self.repo.get(regiao_id)
        await self._refuse_if_used(regiao)
        await self.repo.delete(regiao.id)  # type: ignore[arg-type]
        if await self.placas.count({"regiao_id": regiao.id}):
            await regiao.insert()
            await self._refuse_if_used(regiao)

    async def _refuse_if_used(self, regiao: Regiao) -> None:
        n = await self.placas.count({"regiao_id": regiao.id})
        if n:
            raise conflict(
                f"região {regiao.nome!r} still has {n} placa(s); move or delete them first",
                "in_use",
                item("placa", count=n),
            )
