"""/api/v1/pis."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
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

    @get("/", raises=[NotFoundException])
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

    @post("/", raises=[NotFoundException, ConflictException])
    async def create_pi(self, pi_service: NamedDependency[PIService], data: JSONBody[PICreate]) -> PIRead:
        """Book every placa for [inicio, fim) — all or none; 409 names the placas already taken."""
        pi = await pi_service.create(data)
        return PIRead.from_doc(pi, status_publico(pi))

    @get("/{pi_id:str}")
    async def get_pi(self, pi_service: NamedDependency[PIService], pi_id: FromPath[str]) -> PIRead:
        pi = await pi_service.get(pi_id)
        return PIRead.from_doc(pi, status_publico(pi))

    @patch("/{pi_id:str}", raises=[ConflictException])
    async def update_pi(
        self, pi_service: NamedDependency[PIService], pi_id: FromPath[str], data: JSONBody[PIUpdate]
    ) -> PIRead:
        """Edit produto/descricao/valorTotalCentavos or move the status; cancelling frees the placas."""
        pi = await pi_service.update(pi_id, data)
        return PIRead.from_doc(pi, status_publico(pi))

    @post("/{pi_id:str}/cancel", status_code=HTTP_200_OK, raises=[ConflictException])
    async def cancel_pi(self, pi_service: NamedDependency[PIService], pi_id: FromPath[str]) -> PIRead:
        pi = await pi_service.cancel(pi_id)
        return PIRead.from_doc(pi, status_publico(pi))
