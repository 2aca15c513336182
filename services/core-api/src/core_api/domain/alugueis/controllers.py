"""/api/v1/alugueis and /api/v1/placas/disponiveis."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from core_api.domain.alugueis.schemas import AluguelCreate, AluguelRead, PlacaDisponivel
from core_api.domain.alugueis.services import AluguelService, DisponibilidadeService
from core_api.lib.csv_export import list_response
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, datetime_query, parse_datetime_query, provide_list_params
from core_api.lib.schemas import Page


class AluguelController(Controller):
    path = "/api/v1/alugueis"
    tags = ["alugueis"]
    dependencies = {"aluguel_service": provide_service(AluguelService), "list_params": provide_list_params}

    @get(
        "/",
        summary="List aluguéis (filter by placa, cliente, PI, status, period)",
        raises=[NotFoundException],
    )
    async def list_alugueis(
        self,
        aluguel_service: NamedDependency[AluguelService],
        list_params: NamedDependency[ListParams],
        placa_id: Annotated[str | None, QueryParameter(name="placaId")] = None,
        cliente_id: Annotated[str | None, QueryParameter(name="clienteId")] = None,
        pi_id: Annotated[str | None, QueryParameter(name="piId")] = None,
        status: FromQuery[Literal["ativo", "cancelado"] | None] = None,
        inicio: Annotated[str | None, datetime_query("overlapping this period: its start")] = None,
        fim: Annotated[str | None, datetime_query("overlapping this period: its end")] = None,
    ) -> Response[Page[AluguelRead]]:
        """Aluguéis of the caller's empresa, paged (sort: createdAt, inicio, fim, valorCentavos);
        `inicio`/`fim` keep those overlapping the period (a day such as `2027-03-01` is that day in
        America/Sao_Paulo). A PI's aluguéis are listed too (`piId`); CSV with `?format=csv`."""
        desde, ate = parse_datetime_query(inicio, "inicio"), parse_datetime_query(fim, "fim")
        return await list_response(
            list_params,
            AluguelRead,
            lambda p: aluguel_service.list(
                placa_id=placa_id,
                cliente_id=cliente_id,
                pi_id=pi_id,
                status=status,
                inicio=desde,
                fim=ate,
                params=p,
            ),
            AluguelRead.from_doc,
            "alugueis",
        )

    @post("/", summary="Book one placa for a period", raises=[NotFoundException, ConflictException])
    async def create_aluguel(
        self, aluguel_service: NamedDependency[AluguelService], data: JSONBody[AluguelCreate]
    ) -> AluguelRead:
        """Book a placa for whole local days: `inicio`/`fim` as days (`2027-03-01`, `fim` included) or
        datetimes with a zone (`fim` exclusive). 409 naming the placa when any day is already taken;
        404 for a placa or cliente that is not the empresa's; 409 for an inactive placa."""
        return AluguelRead.from_doc(await aluguel_service.create(data))

    @get("/{aluguel_id:str}", summary="Get one aluguel")
    async def get_aluguel(
        self, aluguel_service: NamedDependency[AluguelService], aluguel_id: FromPath[str]
    ) -> AluguelRead:
        """An aluguel of the caller's empresa (another empresa's or an unknown id: 404)."""
        return AluguelRead.from_doc(await aluguel_service.get(aluguel_id))

    @post(
        "/{aluguel_id:str}/cancel",
        summary="Cancel an aluguel and free its days",
        status_code=HTTP_200_OK,
        raises=[ConflictException],
    )
    async def cancel_aluguel(
        self, aluguel_service: NamedDependency[AluguelService], aluguel_id: FromPath[str]
    ) -> AluguelRead:
        """Cancel and free the placa's days (409 when already cancelado, or when it belongs to a PI:
        cancel the PI)."""
        return AluguelRead.from_doc(await aluguel_service.cancel(aluguel_id))

    @delete("/{aluguel_id:str}", summary="Cancel an aluguel (kept, as cancelado)", raises=[ConflictException])
    async def delete_aluguel(
        self, aluguel_service: NamedDependency[AluguelService], aluguel_id: FromPath[str]
    ) -> None:
        """Same as cancel (the record is kept, with status `cancelado`)."""
        await aluguel_service.cancel(aluguel_id)


class DisponiveisController(Controller):
    """Lives with the aluguéis because it reads their slots. Litestar matches the static segment
    `disponiveis` before the placas area's `/{placa_id}` (tested)."""

    path = "/api/v1/placas/disponiveis"
    tags = ["placas"]
    dependencies = {
        "disponibilidade_service": provide_service(DisponibilidadeService),
        "list_params": provide_list_params,
    }

    @get("/", summary="Placas free for a whole period", raises=[NotFoundException])
    async def placas_disponiveis(
        self,
        disponibilidade_service: NamedDependency[DisponibilidadeService],
        list_params: NamedDependency[ListParams],
        inicio: Annotated[str, datetime_query("start of the period")],
        fim: Annotated[str, datetime_query("end of the period (exclusive)")],
        regiao_id: Annotated[str | None, QueryParameter(name="regiaoId")] = None,
    ) -> Response[Page[PlacaDisponivel]]:
        """Active placas free on every day of the period, optionally of one região, paged (CSV with
        `?format=csv`). Days (`2027-03-01`) are days in America/Sao_Paulo with `fim` included; a
        datetime `fim` is exclusive."""
        desde, ate = parse_datetime_query(inicio, "inicio"), parse_datetime_query(fim, "fim")
        assert desde is not None and ate is not None  # both are required query parameters
        return await list_response(
            list_params,
            PlacaDisponivel,
            lambda p: disponibilidade_service.placas_livres(
                inicio=desde, fim=ate, regiao_id=regiao_id, params=p
            ),
            PlacaDisponivel.from_doc,
            "placas-disponiveis",
        )
