"""The caller's own empresa. Empresa is the tenant itself, so it is addressed only through the
principal's empresa id, never by an id from the request."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from shared.auth import Principal

from core_api.domain.empresas.models import Empresa
from core_api.domain.empresas.schemas import EmpresaUpdate
from core_api.lib.repository import parse_object_id


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
            await Empresa.get_pymongo_collection().update_one({"_id": self.empresa_id}, {"$set": changes})
        return await self.get()
