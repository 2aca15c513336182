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

    @get("/", summary="List contratos (filter by PI, cliente, text)", raises=[NotFoundException])
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
        """Contratos of the caller's empresa, paged (sort: numero, createdAt, inicio); `q` searches codigo
        and produto (plain text, case-insensitive). CSV with `?format=csv`."""
        return await list_response(
            list_params,
            ContratoRead,
            lambda p: contrato_service.list(p, pi_id=pi_id, cliente_id=cliente_id, q=q),
            ContratoRead.from_doc,
            "contratos",
        )

    @post("/", summary="Make the contrato of a PI", raises=[NotFoundException, ConflictException])
    async def create_contrato(
        self, contrato_service: NamedDependency[ContratoService], data: JSONBody[ContratoCreate]
    ) -> ContratoRead:
        """The contrato of a PI, numbered per empresa (`CT-2026-000123`), with the empresa's current
        clauses resolved and stored (it always prints the text it was made with). One per PI: 409 on a
        second, and 409 for a PI that is cancelada or still a rascunho (approve it first).
        `pagamento` defaults to the PI's."""
        return ContratoRead.from_doc(await contrato_service.create(data))

    @get("/{contrato_id:str}", summary="Get one contrato")
    async def get_contrato(
        self, contrato_service: NamedDependency[ContratoService], contrato_id: FromPath[str]
    ) -> ContratoRead:
        """A contrato of the caller's empresa with its clauses (another empresa's or an unknown id: 404)."""
        return ContratoRead.from_doc(await contrato_service.get(contrato_id))

    @post(
        "/{contrato_id:str}/cancel",
        summary="Cancel a contrato",
        status_code=HTTP_200_OK,
        raises=[ConflictException],
    )
    async def cancel_contrato(
        self, contrato_service: NamedDependency[ContratoService], contrato_id: FromPath[str]
    ) -> ContratoRead:
        """Cancel the contrato (409 if it is cancelled already). Its PI and bookings are unchanged."""
        return ContratoRead.from_doc(await contrato_service.cancel(contrato_id))
