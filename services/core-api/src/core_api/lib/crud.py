"""The CRUD service shape shared by the simple domain areas (regiões, clientes, users, placas).

Each area declares its model, repository, sortable and searchable fields; it overrides only what
differs (a placa checks its região, a região refuses deletion while placas use it, ...). Everything
goes through `TenantRepository`, so it is scoped to the caller's empresa.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from litestar.datastructures import State
from shared.auth import Principal
from shared.metrics import entity_created

from core_api.lib.cache import TenantCache
from core_api.lib.documents import TenantDocument
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository, text_filter

D = TypeVar("D", bound=TenantDocument)


class TenantCrudService(Generic[D]):
    model: ClassVar[type[TenantDocument]]
    repository: ClassVar[type[TenantRepository[Any]]] = TenantRepository
    #: API sort name -> document field
    sort_fields: ClassVar[Mapping[str, str]] = {"createdAt": "created_at", "updatedAt": "updated_at"}
    search_fields: ClassVar[list[str]] = []
    default_sort: ClassVar[str] = "-created_at"
    #: business counter label (`business_entities_created_total{entity=...}`); None: not counted
    entity: ClassVar[str | None] = None
    #: the read-cache area whose generation the list's totals are kept under (None: count every time)
    cache_area: ClassVar[str | None] = None

    def __init__(self, principal: Principal, state: State) -> None:
        self.principal = principal
        self.state = state
        self.repo: TenantRepository[D] = self.repository(self.model, principal.empresa_id)

    async def list(
        self, params: ListParams, q: str | None = None, filters: Mapping[str, Any] | None = None
    ) -> tuple[list[D], int]:
        query: dict[str, Any] = text_filter(self.search_fields, q) if q else {}
        query.update(filters or {})
        return await self.repo.page(
            query,
            page=params.page,
            page_size=params.page_size,
            sort=db_sort(params.sort, self.sort_fields),
            allowed_sort=tuple(self.sort_fields.values()),
            default_sort=self.default_sort,
            total=self._cached_total if self._caches_totals() else None,
        )

    def _caches_totals(self) -> bool:
        # admins read fresh data (the seed's rule), counts included
        cache: TenantCache | None = getattr(self.state, "cache", None)
        return (
            self.cache_area is not None
            and cache is not None
            and not self.principal.is_admin
            and cache.usable_for(self.principal.empresa_id)
        )

    async def _cached_total(self, query: Mapping[str, Any], count: Callable[[], Awaitable[int]]) -> int:
        cache: TenantCache = self.state.cache
        assert self.cache_area is not None
        return await cache.counted(self.principal.empresa_id, self.cache_area, repr(query), count)

    async def get(self, doc_id: str) -> D:
        return await self.repo.get(doc_id)

    async def create(self, data: Any) -> D:  # a pydantic create schema (subclasses name theirs)
        doc = await self.repo.create(
            self.model(empresa_id=self.repo.empresa_id, **data.model_dump(by_alias=False))
        )
        if self.entity:
            entity_created(self.entity)
        return doc

    async def update(self, doc_id: str, data: Any) -> D:
        return await self.repo.update(doc_id, data.changes())

    async def delete(self, doc_id: str) -> None:
        await self.repo.delete(doc_id)
