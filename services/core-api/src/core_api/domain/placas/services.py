"""Placas of the caller's empresa."""

from __future__ import annotations

import re
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from shared.auth import Principal
from shared.metrics import entity_created

from core_api.domain.placas.cache import AREA, placas_changed
from core_api.domain.placas.models import Placa
from core_api.domain.placas.schemas import PlacaCreate, PlacaUpdate
from core_api.domain.regioes.models import Regiao
from core_api.lib.cache import TenantCache
from core_api.lib.crud import TenantCrudService
from core_api.lib.errors import invalid
from core_api.lib.listing import ListParams
from core_api.lib.repository import TenantRepository, parse_object_id

SORT_FIELDS = {
    "numero": "numero",
    "cidade": "cidade",
    "valorMensalCentavos": "valor_mensal_centavos",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
}
SEARCH_FIELDS = ["numero", "endereco", "cidade", "descricao"]


class PlacaRepository(TenantRepository[Placa]):
    label = "placa"
    unique_fields = {"empresa_numero_unique": "numero"}


class PlacaService(TenantCrudService[Placa]):
    model = Placa
    repository = PlacaRepository
    sort_fields = SORT_FIELDS
    search_fields = SEARCH_FIELDS
    default_sort = "numero"
    entity = "placa"
    cache_area = AREA

    def __init__(self, principal: Principal, state: State) -> None:
        super().__init__(principal, state)
        self.empresa_id = principal.empresa_id
        self.cache: TenantCache = state.cache
        self.regioes = TenantRepository(Regiao, principal.empresa_id, label="região")

    async def list(  # type: ignore[override]
        self,
        params: ListParams,
        *,
        q: str | None = None,
        regiao_id: str | None = None,
        ativa: bool | None = None,
        cidade: str | None = None,
    ) -> tuple[list[Placa], int]:
        filters: dict[str, Any] = {}
        if regiao_id is not None:
            filters["regiao_id"] = _filter_id(regiao_id, "regiaoId")
        if ativa is not None:
            filters["ativa"] = ativa
        if cidade:
            filters["cidade"] = {"$regex": f"^{re.escape(cidade.strip())}$", "$options": "i"}
        return await super().list(params, q, filters)

    async def get(self, placa_id: str) -> Placa:
        # GET /placas/{id} is answered from the response cache (domain.placas.cache) before this runs
        return await self.repo.get(parse_object_id(placa_id, "placa"))

    async def create(self, data: PlacaCreate) -> Placa:
        fields = data.model_dump(by_alias=False)
        fields["regiao_id"] = await self._regiao_of_empresa(fields["regiao_id"])
        placa = await self.repo.create(Placa(empresa_id=self.repo.empresa_id, **fields))
        try:
            await self._undo_if_regiao_vanished(placa, placa.regiao_id, delete=True)
        finally:
            await placas_changed(self.cache, self.empresa_id)
        entity_created("placa")
        return placa

    async def update(self, placa_id: str, data: PlacaUpdate) -> Placa:
        try:
            return await self._update(placa_id, data)
        finally:
            await placas_changed(self.cache, self.empresa_id, placa_id)

    async def _update(self, placa_id: str, data: PlacaUpdate) -> Placa:
        changes = data.changes()
        if "regiao_id" in changes:
            before = await self.repo.get(placa_id)
            changes["regiao_id"] = await self._regiao_of_empresa(changes["regiao_id"])
            placa = await self.repo.update(placa_id, changes)
            await self._undo_if_regiao_vanished(placa, before.regiao_id, delete=False)
            return placa
        return await self.repo.update(placa_id, changes)

    async def delete(self, placa_id: str) -> None:
        try:
            await self.repo.delete(placa_id)
        finally:
            await placas_changed(self.cache, self.empresa_id, placa_id)

    # -- rules ----------------------------------------------------------------------------------
    async def _regiao_of_empresa(self, regiao_id: str) -> PydanticObjectId:
        oid = _filter_id(regiao_id, "regiaoId")
        if await self.regioes.count({"_id": oid}) == 0:
            raise _regiao_missing(regiao_id)
        return oid

    async def _undo_if_regiao_vanished(
        self, placa: Placa, previous: PydanticObjectId, *, delete: bool
    ) -> None:
        """The região may be deleted between our check and our write (no transactions): re-check
        after writing and undo (see RegiaoService.delete for the other half)."""
        if await self.regioes.count({"_id": placa.regiao_id}):
            return
        if delete:
            await self.repo.delete(placa.id)  # type: ignore[arg-type]
        else:
            await self.repo.update(placa.id, {"regiao_id": previous})  # type: ignore[arg-type]
        raise _regiao_missing(str(placa.regiao_id))


def _filter_id(value: str, field: str) -> PydanticObjectId:
    try:
        return PydanticObjectId(value)
    except Exception:
        raise invalid(f"{field} must be a 24-character hexadecimal id", field, None) from None


def _regiao_missing(regiao_id: str) -> ValidationException:
    return invalid(
        f"regiaoId {regiao_id} does not name a região of your empresa; create it first or use GET /api/v1/regioes",
        "regiaoId",
    )
