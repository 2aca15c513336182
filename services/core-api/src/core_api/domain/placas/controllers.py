"""/api/v1/placas: CRUD of the empresa's placas (billboards)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter

from core_api.domain.placas.cache import AREA, PLACA_TTL, PLACAS_TTL, placa_entry_keys
from core_api.domain.placas.schemas import PlacaCreate, PlacaRead, PlacaUpdate
from core_api.domain.placas.services import PlacaService
from core_api.lib.cache import cached
from core_api.lib.csv_export import list_response
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, provide_list_params
from core_api.lib.schemas import Page


class PlacaController(Controller):
    path = "/api/v1/placas"
    tags = ["placas"]
    dependencies = {"placas_service": provide_service(PlacaService), "list_params": provide_list_params}

    @get(
        "/",
        summary="List placas (filter by região, ativa, cidade, text; sort: numero, cidade, valorMensalCentavos, createdAt)",
        description="Cached in Redis for 10 minutes per empresa and query (admins always read fresh data); "
        "any placa write of the empresa invalidates it. Answers carry an ETag; send If-None-Match to get a 304.",
        opt=cached(AREA, PLACAS_TTL),
        raises=[NotFoundException],
    )
    async def list_placas(
        self,
        placas_service: NamedDependency[PlacaService],
        list_params: NamedDependency[ListParams],
        q: Annotated[
            str | None,
            QueryParameter(max_length=100, description="search in numero, endereco, cidade, descricao"),
        ] = None,
        regiao_id: Annotated[
            str | None, QueryParameter(name="regiaoId", max_length=24, description="only this região")
        ] = None,
        ativa: Annotated[
            bool | None, QueryParameter(description="only active (true) or inactive (false) placas")
        ] = None,
        cidade: Annotated[
            str | None, QueryParameter(max_length=120, description="exact city, case-insensitive")
        ] = None,
    ) -> Response[Page[PlacaRead]]:
        return await list_response(
            list_params,
            PlacaRead,
            lambda p: placas_service.list(p, q=q, regiao_id=regiao_id, ativa=ativa, cidade=cidade),
            PlacaRead.model_validate,
            "placas",
        )

    @post(
        "/",
        summary="Create a placa (numero unique in the empresa; regiaoId must be one of your regiões)",
        description="Money in integer cents (`valorMensalCentavos`), sizes in cm; 409 when the numero is taken.",
        raises=[ConflictException],
    )
    async def create_placa(
        self, placas_service: NamedDependency[PlacaService], data: JSONBody[PlacaCreate]
    ) -> PlacaRead:
        return PlacaRead.model_validate(await placas_service.create(data))

    @get(
        "/{placa_id:str}",
        summary="Get one placa",
        description="Cached in Redis for 10 minutes (`placa:{id}:empresa:{empresaId}`) until the placa changes; "
        "admins always read fresh data. Answers carry an ETag; send If-None-Match to get a 304.",
        opt=cached(AREA, PLACA_TTL, placa_entry_keys),
    )
    async def get_placa(
        self, placas_service: NamedDependency[PlacaService], placa_id: FromPath[str]
    ) -> PlacaRead:
        return PlacaRead.model_validate(await placas_service.get(placa_id))

    @patch(
        "/{placa_id:str}",
        summary="Change a placa",
        description="Omitted fields are unchanged; 409 when the new numero is taken.",
        raises=[ConflictException],
    )
    async def update_placa(
        self,
        placas_service: NamedDependency[PlacaService],
        placa_id: FromPath[str],
        data: JSONBody[PlacaUpdate],
    ) -> PlacaRead:
        return PlacaRead.model_validate(await placas_service.update(placa_id, data))

    @delete(
        "/{placa_id:str}",
        summary="Delete a placa",
        description="Removes the placa; to keep it out of new bookings but in the history, deactivate it (`ativa: false`) instead.",
        raises=[ConflictException],
    )
    async def delete_placa(
        self, placas_service: NamedDependency[PlacaService], placa_id: FromPath[str]
    ) -> None:
        await placas_service.delete(placa_id)
