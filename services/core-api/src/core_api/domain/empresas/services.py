"""The caller's own empresa. Empresa is the tenant itself, so it is addressed only through the
principal's empresa id, never by an id from the request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from shared.auth import Principal

from core_api.domain.empresas.models import Empresa
from core_api.domain.empresas.schemas import EmpresaUpdate
from core_api.lib.repository import TenantRepository, parse_object_id


class EmpresaService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.empresa_id = parse_object_id(principal.empresa_id, "empresa")

    async def get(self) -> Empresa:
        empresa = await Empresa.get(self.empresa_id)
        if empresa is None:
            raise NotFoundException("your empresa no longer exists")
        return empresa

    async def update(self, data: EmpresaUpdate) -> Empresa:
        changes = data.changes()
        if changes:
            await EmpresaRepository(self.empresa_id).update(self.empresa_id, changes)
        return await self.get()


class EmpresaRepository(TenantRepository[Any]):
    """The empresa document itself: "scoped to the empresa" means its own `_id`."""

    label = "empresa"

    def __init__(self, empresa_id: PydanticObjectId) -> None:
        super().__init__(Empresa, empresa_id)  # type: ignore[arg-type]

    def scoped(self, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        q = dict(query or {})
        if q.get("_id", self.empresa_id) != self.empresa_id:
            q["_id"] = {"$in": []}  # another empresa's id names nothing
        else:
            q["_id"] = self.empresa_id
        return q
