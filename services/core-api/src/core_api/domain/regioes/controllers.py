"""/api/v1/regioes: CRUD of the empresa's regiões."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from core_api.domain.regioes.schemas import RegiaoCreate, RegiaoRead, RegiaoUpdate
from core_api.domain.regioes.services import AREA, REGIOES_TTL, RegiaoService
from core_api.lib.cache import cached
from core_api.lib.csv_export import list_response
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, provide_list_params
from core_api.lib.schemas import Page


class RegiaoController(Controller):
    path = "/api/v1/regioes"
    tags = ["regiões"]
    dependencies = {"regioes_service": provide_service(RegiaoService), "list_params": provide_list_params}

    @get(
        "/",
        summary="List regiões (sort: nome, createdAt, updatedAt)",
        description="Cached in Redis for 30 minutes per empresa and query (admins always read fresh data); "
        "any write of the empresa's regiões invalidates it. Answers carry an ETag; send If-None-Match to get a 304.",
        opt=cached(AREA, REGIOES_TTL),
    )
    async def list_regioes(
        self,
        regioes_service: NamedDependency[RegiaoService],
        list_params: NamedDependency[ListParams],
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="search in nome and descricao")
        ] = None,
    ) -> Response[Page[RegiaoRead]]:
        return await list_response(
            list_params,
            RegiaoRead,
            lambda p: regioes_service.list(p, q),
            RegiaoRead.model_validate,
            "regioes",
        )

    @post(
        "/",
        summary="Create a região (nome unique in the empresa)",
        description="409 when the empresa already has a região of that nome.",
        raises=[ConflictException],
    )
    async def create_regiao(
        self, regioes_service: NamedDependency[RegiaoService], data: JSONBody[RegiaoCreate]
    ) -> RegiaoRead:
        return RegiaoRead.model_validate(await regioes_service.create(data))

    @get(
        "/{regiao_id:str}",
        summary="Get one região",
        description="A região of the caller's empresa; another empresa's or an unknown id is 404.",
    )
    async def get_regiao(
        self, regioes_service: NamedDependency[RegiaoService], regiao_id: FromPath[str]
    ) -> RegiaoRead:
        return RegiaoRead.model_validate(await regioes_service.get(regiao_id))

    @patch(
        "/{regiao_id:str}",
        summary="Change a região",
        description="Omitted fields are unchanged; 409 when the new nome is taken.",
        raises=[ConflictException],
    )
    async def update_regiao(
        self,
        regioes_service: NamedDependency[RegiaoService],
        regiao_id: FromPath[str],
        data: JSONBody[RegiaoUpdate],
    ) -> RegiaoRead:
        return RegiaoRead.model_validate(await regioes_service.update(regiao_id, data))

    @delete(
        "/{regiao_id:str}",
        summary="Delete a região (409 while it has placas)",
        description="Move or delete its placas first: a região that still has placas is a 409 naming how many.",
        raises=[ConflictException],
    )
    async def delete_regiao(
        self, regioes_service: NamedDependency[RegiaoService], regiao_id: FromPath[str]
    ) -> None:
        await regioes_service.delete(regiao_id)
