"""/api/v1/pis."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from core_api.domain.pis.schemas import PICreate, PIRead, PIStatusPublico, PIUpdate
from core_api.domain.pis.services import PIService, status_publico
from core_api.lib.csv_export import list_response
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, datetime_query, parse_datetime_query, provide_list_params
from core_api.lib.schemas import Page


class PIController(Controller):
    path = "/api/v1/pis"
    tags = ["pis"]
    dependencies = {"pi_service": provide_service(PIService), "list_params": provide_list_params}

    @get("/", summary="List PIs (filter by cliente, placa, status, period, text)", raises=[NotFoundException])
    async def list_pis(
        self,
        pi_service: NamedDependency[PIService],
        list_params: NamedDependency[ListParams],
        cliente_id: Annotated[str | None, QueryParameter(name="clienteId")] = None,
        placa_id: Annotated[
            str | None, QueryParameter(name="placaId", description="PIs booking this placa")
        ] = None,
        status: FromQuery[PIStatusPublico | None] = None,
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="search in codigo, produto and descricao")
        ] = None,
        inicio: Annotated[str | None, datetime_query("overlapping this period: its start")] = None,
        fim: Annotated[str | None, datetime_query("overlapping this period: its end")] = None,
    ) -> Response[Page[PIRead]]:
        """PIs of the caller's empresa, paged (sort: createdAt, inicio, fim, valorTotalCentavos); `status`
        as clients see it (`vencida`: running past its end); `q` searches codigo, produto and
        descricao. CSV with `?format=csv`."""
        desde, ate = parse_datetime_query(inicio, "inicio"), parse_datetime_query(fim, "fim")
        return await list_response(
            list_params,
            PIRead,
            lambda p: pi_service.list(
                p, cliente_id=cliente_id, placa_id=placa_id, status=status, inicio=desde, fim=ate, q=q
            ),
            lambda pi: PIRead.from_doc(pi, status_publico(pi)),
            "pis",
        )

    @post(
        "/",
        summary="Create a PI, booking all its placas or none",
        raises=[NotFoundException, ConflictException],
    )
    async def create_pi(self, pi_service: NamedDependency[PIService], data: JSONBody[PICreate]) -> PIRead:
        """Book every placa for the period — all or none; 409 names the placas already taken. Each
        item carries its placa's value (default: the monthly price pro rata by day), the total is their
        sum; numbered per empresa and year (`PI-2027-000123`). `"status": "rascunho"` makes a draft
        to approve (see `PATCH /pis/{pi_id}`)."""
        pi = await pi_service.create(data)
        return PIRead.from_doc(pi, status_publico(pi))

    @get("/{pi_id:str}", summary="Get one PI")
    async def get_pi(self, pi_service: NamedDependency[PIService], pi_id: FromPath[str]) -> PIRead:
        """A PI of the caller's empresa with its items, status history and generated documents
        (another empresa's or an unknown id: 404)."""
        pi = await pi_service.get(pi_id)
        return PIRead.from_doc(pi, status_publico(pi))

    @patch(
        "/{pi_id:str}",
        summary="Change a PI or move its status (approve, sign, conclude, cancel)",
        raises=[ConflictException, PermissionDeniedException],
    )
    async def update_pi(
        self, pi_service: NamedDependency[PIService], pi_id: FromPath[str], data: JSONBody[PIUpdate]
    ) -> PIRead:
        """Edit produto/descricao/valorTotalCentavos and/or move the status: rascunho → aprovada (admin;
        records who and when) → assinada (records who and when); an admin may reopen an aprovada PI as
        rascunho; vencida → concluida; cancelada frees the placas. Racing moves: one wins, the others
        get 409. 403 when the role may not make the move."""
        pi = await pi_service.update(pi_id, data)
        return PIRead.from_doc(pi, status_publico(pi))

    @post(
        "/{pi_id:str}/cancel",
        summary="Cancel a PI and free its placas",
        status_code=HTTP_200_OK,
        raises=[ConflictException],
    )
    async def cancel_pi(self, pi_service: NamedDependency[PIService], pi_id: FromPath[str]) -> PIRead:
        """Same as `PATCH {"status": "cancelada"}`: 409 when already cancelada or concluida."""
        pi = await pi_service.cancel(pi_id)
        return PIRead.from_doc(pi, status_publico(pi))
