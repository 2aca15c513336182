"""/api/v1/contratos."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from core_api.domain.contratos.schemas import ContratoCreate, ContratoRead
from core_api.domain.contratos.services import ContratoService
from core_api.lib.csv_export import list_response
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, provide_list_params
from core_api.lib.schemas import Page


class ContratoController(Controller):
    path = "/api/v1/contratos"
    tags = ["contratos"]
    dependencies = {"contrato_service": provide_service(ContratoService), "list_params": provide_list_params}

    @get("/", raises=[NotFoundException])
    async def list_contratos(
        self,
        contrato_service: NamedDependency[ContratoService],
        list_params: NamedDependency[ListParams],
        pi_id: Annotated[str | None, QueryParameter(name="piId")] = None,
        cliente_id: Annotated[str | None, QueryParameter(name="clienteId")] = None,
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="search in codigo and produto")
        ] = None,
    ) -> Response[Page[ContratoRead]]:
        return await list_response(
            list_params,
            ContratoRead,
            lambda p: contrato_service.list(p, pi_id=pi_id, cliente_id=cliente_id, q=q),
            ContratoRead.from_doc,
            "contratos",
        )

    @post("/", raises=[NotFoundException, ConflictException])
    async def create_contrato(
        self, contrato_service: NamedDependency[ContratoService], data: JSONBody[ContratoCreate]
    ) -> ContratoRead:
        """The contrato of a PI (one per PI, 409 on a second; 409 for a cancelled PI)."""
        return ContratoRead.from_doc(await contrato_service.create(data))

    @get("/{contrato_id:str}")
    async def get_contrato(
        self, contrato_service: NamedDependency[ContratoService], contrato_id: FromPath[str]
    ) -> ContratoRead:
        return ContratoRead.from_doc(await contrato_service.get(contrato_id))

    @post("/{contrato_id:str}/cancel", status_code=HTTP_200_OK)
    async def cancel_contrato(
        self, contrato_service: NamedDependency[ContratoService], contrato_id: FromPath[str]
    ) -> ContratoRead:
        """Cancel the contrato (409 if it is cancelled already). Its PI and bookings are unchanged."""
        return ContratoRead.from_doc(await contrato_service.cancel(contrato_id))
