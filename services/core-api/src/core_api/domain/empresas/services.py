"""The caller's own empresa. Empresa is the tenant itself, so it is addressed only through the
principal's empresa id, never by an id from the request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from shared.auth import Principal

from core_api.domain.empresas.logo import LogoStore, validate_logo
from core_api.domain.empresas.models import Empresa, Logo
from core_api.domain.empresas.schemas import EmpresaUpdate
from core_api.lib.repository import TenantRepository, parse_object_id


class EmpresaService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.empresa_id = parse_object_id(principal.empresa_id, "empresa")
        self.repo = EmpresaRepository(self.empresa_id)
        self.logos = LogoStore(state.db)

    async def get(self) -> Empresa:
        empresa = await Empresa.get(self.empresa_id)
        if empresa is None:
            raise NotFoundException("your empresa no longer exists")
        return empresa

    async def update(self, data: EmpresaUpdate) -> Empresa:
        changes = data.changes()
        if changes:
            await self.repo.update(self.empresa_id, changes)
        return await self.get()

    async def set_logo(self, content_type: str | None, body: bytes) -> Empresa:
        kind = validate_logo(content_type, body)
        stored = await self.logos.put(self.empresa_id, kind, body)
        async with self.repo.locked(self.empresa_id) as empresa:
            old = empresa.logo
            await self.repo.write(empresa, {"logo": stored})
        if old is not None:
            await self.logos.delete(old.file_id)
        return await self.get()

    async def logo(self) -> tuple[Logo, bytes]:
        empresa = await self.get()
        if empresa.logo is None:
            raise NotFoundException("your empresa has no logo; upload one with PUT /api/v1/empresa/logo")
        return empresa.logo, await self.logos.read(empresa.logo.file_id)

    async def delete_logo(self) -> None:
        async with self.repo.locked(self.empresa_id) as empresa:
            old = empresa.logo
            if old is not None:
                await self.repo.write(empresa, {"logo": None})
        if old is not None:
            await self.logos.delete(old.file_id)


class EmpresaRepository(TenantRepository[Any]):
    """The empresa document itself: "scoped to the empresa" means its own `_id`."""

    label = "empresa"

    def __init__(self, empresa_id: PydanticObjectId) -> None:
        super().__init__(Empresa, empresa_id)

    def scoped(self, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        q = dict(query or {})
        if q.get("_id", self.empresa_id) != self.empresa_id:
            q["_id"] = {"$in": []}  # another empresa's id names nothing
        else:
            q["_id"] = self.empresa_id
        return q
