"""Clientes (advertisers) of the caller's empresa."""

from __future__ import annotations

from litestar.datastructures import State
from shared.auth import Principal
from shared.metrics import entity_created

from core_api.domain.clientes.models import Cliente
from core_api.domain.clientes.schemas import ClienteCreate, ClienteUpdate
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository, text_filter

SORT_FIELDS = {"nome": "nome", "createdAt": "created_at", "updatedAt": "updated_at"}
SEARCH_FIELDS = ["nome", "documento", "email", "responsavel"]


class ClienteRepository(TenantRepository[Cliente]):
    label = "cliente"


class ClienteService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.repo = ClienteRepository(Cliente, principal.empresa_id)

    async def list(self, params: ListParams, q: str | None = None) -> tuple[list[Cliente], int]:
        query = text_filter(SEARCH_FIELDS, q) if q else {}
        return await self.repo.page(
            query,
            page=params.page,
            page_size=params.page_size,
            sort=db_sort(params.sort, SORT_FIELDS),
            allowed_sort=tuple(SORT_FIELDS.values()),
            default_sort="nome",
        )

    async def get(self, cliente_id: str) -> Cliente:
        return await self.repo.get(cliente_id)

    async def create(self, data: ClienteCreate) -> Cliente:
        cliente = await self.repo.create(
            Cliente(empresa_id=self.repo.empresa_id, **data.model_dump(by_alias=False))
        )
        entity_created("cliente")
        return cliente

    async def update(self, cliente_id: str, data: ClienteUpdate) -> Cliente:
        return await self.repo.update(cliente_id, data.changes())

    async def delete(self, cliente_id: str) -> None:
        # TODO(alugueis/pis): refuse (409) while aluguéis or PIs reference the cliente
        await self.repo.delete(cliente_id)
