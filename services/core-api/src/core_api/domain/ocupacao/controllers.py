"""/api/v1/ocupacao: the occupancy calendar a back-office plans with."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter

from core_api.domain.ocupacao.schemas import Ocupacao, OcupacaoPlaca
from core_api.domain.ocupacao.services import MAX_DIAS, OcupacaoService, parse_dia
from core_api.lib.deps import provide_service
from core_api.lib.listing import ListParams, provide_list_params

DIA = "a day (`2027-03-01`, in the empresa's time zone) or an ISO datetime with a time zone"


class OcupacaoController(Controller):
    path = "/api/v1/ocupacao"
    tags = ["placas"]
    dependencies = {"ocupacao_service": provide_service(OcupacaoService), "list_params": provide_list_params}

    @get(
        "/",
        summary="Occupancy calendar",
        description="A page of the empresa's placas (by número), each with the runs of days its aluguéis "
        f"(active or being booked) hold within [inicio, fim] — both days inclusive, at most {MAX_DIAS} "
        "days — with the PI and cliente of each run, the days booked and the occupancy rate.",
        raises=[NotFoundException],
    )
    async def ocupacao(
        self,
        ocupacao_service: NamedDependency[OcupacaoService],
        list_params: NamedDependency[ListParams],
        inicio: Annotated[str, QueryParameter(description=f"first day: {DIA}", max_length=40)],
        fim: Annotated[str, QueryParameter(description=f"last day, inclusive: {DIA}", max_length=40)],
        regiao_id: Annotated[str | None, QueryParameter(name="regiaoId", max_length=40)] = None,
    ) -> Ocupacao:
        first, last = parse_dia(inicio, "inicio"), parse_dia(fim, "fim")
        items, total = await ocupacao_service.calendario(first, last, regiao_id, list_params)
        return Ocupacao(
            inicio=first,
            fim=last,
            dias=(last - first).days + 1,
            items=[OcupacaoPlaca.model_validate(i) for i in items],
            total=total,
            page=list_params.page,
            page_size=list_params.page_size,
        )
