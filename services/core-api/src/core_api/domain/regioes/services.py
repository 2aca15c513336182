"""Regiões of the caller's empresa."""

from __future__ import annotations

from litestar.datastructures import State
from shared.auth import Principal
from shared.metrics import entity_created

from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.domain.regioes.schemas import RegiaoCreate, RegiaoUpdate
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository, text_filter

SORT_FIELDS = {"nome": "nome", "createdAt": "created_at", "updatedAt": "updated_at"}


class RegiaoRepository(TenantRepository[Regiao]):
    label = "região"
    unique_fields = {"empresa_nome_unique": "nome"}


class RegiaoService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.repo = RegiaoRepository(Regiao, principal.empresa_id)
        self.placas = TenantRepository(Placa, principal.empresa_id, label="placa")

    async def list(self, params: ListParams, q: str | None = None) -> tuple[list[Regiao], int]:
        query = text_filter(["nome", "descricao"], q) if q else {}
        return await self.repo.page(
            query,
            page=params.page,
            page_size=params.page_size,
            sort=db_sort(params.sort, SORT_FIELDS),
            allowed_sort=tuple(SORT_FIELDS.values()),
            default_sort="nome",
        )

    async def get(self, regiao_id: str) -> Regiao:
        return await self.repo.get(regiao_id)

    async def create(self, data: RegiaoCreate) -> Regiao:
        regiao = await self.repo.create(
            Regiao(empresa_id=self.repo.empresa_id, **data.model_dump(by_alias=False))
        )
        entity_created("regiao")
        return regiao

    async def update(self, regiao_id: str, data: RegiaoUpdate) -> Regiao:
        return await self.repo.update(regiao_id, data.changes())

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
            raise ConflictException(
                f"região {regiao.nome!r} still has {n} placa(s); move or delete them first",
                extra={"placas": n},
            )
