"""/api/v1/clientes: CRUD of the empresa's clientes (advertisers)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from core_api.domain.clientes.schemas import ClienteCreate, ClienteRead, ClienteUpdate
from core_api.domain.clientes.services import ClienteService
from core_api.lib.csv_export import list_response
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, provide_list_params
from core_api.lib.schemas import Page


class ClienteController(Controller):
    path = "/api/v1/clientes"
    tags = ["clientes"]
    dependencies = {"clientes_service": provide_service(ClienteService), "list_params": provide_list_params}

    @get(
        "/",
        summary="List clientes (sort: nome, createdAt, updatedAt)",
        description="Clientes of the caller's empresa, paged; `q` searches nome, documento, email and responsavel.",
    )
    async def list_clientes(
        self,
        clientes_service: NamedDependency[ClienteService],
        list_params: NamedDependency[ListParams],
        q: Annotated[
            str | None,
            QueryParameter(max_length=100, description="search in nome, documento, email, responsavel"),
        ] = None,
    ) -> Response[Page[ClienteRead]]:
        return await list_response(
            list_params,
            ClienteRead,
            lambda p: clientes_service.list(p, q),
            ClienteRead.model_validate,
            "clientes",
        )

    @post(
        "/",
        summary="Create a cliente",
        description="`documento` is a CPF or CNPJ (check digits verified, punctuation optional, stored as digits); 409 when taken.",
        raises=[ConflictException],
    )
    async def create_cliente(
        self, clientes_service: NamedDependency[ClienteService], data: JSONBody[ClienteCreate]
    ) -> ClienteRead:
        return ClienteRead.model_validate(await clientes_service.create(data))

    @get(
        "/{cliente_id:str}",
        summary="Get one cliente",
        description="A cliente of the caller's empresa; another empresa's or an unknown id is 404.",
    )
    async def get_cliente(
        self, clientes_service: NamedDependency[ClienteService], cliente_id: FromPath[str]
    ) -> ClienteRead:
        return ClienteRead.model_validate(await clientes_service.get(cliente_id))

    @patch(
        "/{cliente_id:str}",
        summary="Change a cliente",
        description="Omitted fields are unchanged; null clears an optional one.",
        raises=[ConflictException],
    )
    async def update_cliente(
        self,
        clientes_service: NamedDependency[ClienteService],
        cliente_id: FromPath[str],
        data: JSONBody[ClienteUpdate],
    ) -> ClienteRead:
        return ClienteRead.model_validate(await clientes_service.update(cliente_id, data))

    @delete(
        "/{cliente_id:str}",
        summary="Delete a cliente",
        description="409 while the cliente has aluguéis or PIs (`extra.conflicts` counts them).",
        raises=[ConflictException],
    )
    async def delete_cliente(
        self, clientes_service: NamedDependency[ClienteService], cliente_id: FromPath[str]
    ) -> None:
        await clientes_service.delete(cliente_id)
