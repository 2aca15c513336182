"""An empresa's contrato clauses: versioned sets (GET/PUT /api/v1/empresa/clausulas).

The default set (`shared.documents.clausulas.DEFAULT_CLAUSES`) applies until the empresa writes its
own. A PUT adds a version (the highest plus one, inserted: a concurrent PUT collides on the unique
(empresa, versao) index and gets a 409); a contrato records the text of the version current when it
was made, resolved, so editing the set never changes a signed contrato.
"""

from __future__ import annotations

from typing import Annotated, Literal

from beanie import PydanticObjectId, SortDirection
from litestar import Controller, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import Field, model_validator
from shared.auth import Principal, admin_guard
from shared.documents.clausulas import (
    DEFAULT_CLAUSES,
    DEFAULT_VERSION,
    PLACEHOLDERS,
    ClauseTemplate,
    unknown_placeholders,
)

from core_api.domain.contratos.models import ClausulaModelo, ConjuntoClausulas
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException
from core_api.lib.repository import TenantRepository
from core_api.lib.schemas import CamelModel, example_config


class ClausulaIn(CamelModel):
    titulo: str = Field(min_length=1, max_length=120)
    texto: str = Field(min_length=1, max_length=5000)
    quando: Literal["sempre", "avista", "parcelado"] = Field(
        default="sempre", description="printed always, or only for payment à vista / parcelado"
    )

    @model_validator(mode="after")
    def _placeholders(self) -> ClausulaIn:
        unknown = unknown_placeholders(self.texto)
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
                f"use: {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
            )
        return self


class ConjuntoIn(CamelModel):
    """The new clause set (the foro clause is always added last, after these)."""

    clausulas: list[ClausulaIn] = Field(min_length=1, max_length=100)

    model_config = example_config(
        {
            "clausulas": [
                {
                    "titulo": "Do objeto",
                    "texto": "A CONTRATADA cede à CONTRATANTE o uso das placas do Anexo I para a campanha "
                    "{campanha}, de {inicio} a {fim} ({dias} dias).",
                },
                {"titulo": "Do preço", "texto": "O valor total é {valor_total}, pago {pagamento}."},
                {
                    "titulo": "Da rescisão",
                    "texto": "A rescisão antecipada obriga ao pagamento das parcelas vincendas.",
                    "quando": "parcelado",
                },
            ]
        }
    )


class ConjuntoRead(CamelModel):
    versao: Annotated[str, Field(description="`padrao-…` (the default set) or `empresa-vN`")]
    clausulas: list[ClausulaIn]
    placeholders: list[str]


def _rotulo(versao: int) -> str:
    return f"empresa-v{versao}"


class ClausulasService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.repo = TenantRepository(ConjuntoClausulas, PydanticObjectId(principal.empresa_id), "clause set")

    async def vigente(self) -> tuple[str, list[ClauseTemplate]]:
        return await conjunto_vigente(self.repo)

    async def nova_versao(self, data: ConjuntoIn) -> tuple[str, list[ClauseTemplate]]:
        ultimo = await self.repo.find_many_sorted({}, sort=[("versao", SortDirection.DESCENDING)], limit=1)
        versao = (ultimo[0].versao if ultimo else 0) + 1
        conjunto = ConjuntoClausulas(
            empresa_id=self.repo.empresa_id,
            versao=versao,
            clausulas=[ClausulaModelo(**c.model_dump()) for c in data.clausulas],
        )
        try:
            await self.repo.create(conjunto)
        except ConflictException:
            raise ConflictException("the clause set was changed meanwhile; reload it and retry") from None
        return _rotulo(versao), [ClauseTemplate(c.titulo, c.texto, c.quando) for c in data.clausulas]


async def conjunto_vigente(repo: TenantRepository[ConjuntoClausulas]) -> tuple[str, list[ClauseTemplate]]:
    """The empresa's current clause set (its label and clauses), or the default one."""
    ultimo = await repo.find_many_sorted({}, sort=[("versao", SortDirection.DESCENDING)], limit=1)
    if not ultimo:
        return DEFAULT_VERSION, list(DEFAULT_CLAUSES)
    return _rotulo(ultimo[0].versao), [
        ClauseTemplate(c.titulo, c.texto, c.quando) for c in ultimo[0].clausulas
    ]


def _read(versao: str, clausulas: list[ClauseTemplate]) -> ConjuntoRead:
    return ConjuntoRead(
        versao=versao,
        clausulas=[ClausulaIn(titulo=c.titulo, texto=c.texto, quando=c.quando) for c in clausulas],
        placeholders=sorted(PLACEHOLDERS),
    )


class ClausulasController(Controller):
    path = "/api/v1/empresa/clausulas"
    tags = ["contratos"]
    dependencies = {"clausulas_service": provide_service(ClausulasService)}

    @get(
        "/",
        summary="Your empresa's contrato clauses (current version)",
        description="The clauses new contratos are made with: the empresa's latest version, or the default "
        "set. Texts may use the placeholders listed; the foro clause is always added last.",
    )
    async def get_clausulas(self, clausulas_service: NamedDependency[ClausulasService]) -> ConjuntoRead:
        return _read(*await clausulas_service.vigente())

    @put(
        "/",
        summary="Write a new version of your empresa's contrato clauses (admin)",
        description="Adds a version; contratos already made keep the text they were signed with.",
        guards=[admin_guard],
        raises=[ConflictException],
    )
    async def put_clausulas(
        self, clausulas_service: NamedDependency[ClausulasService], data: JSONBody[ConjuntoIn]
    ) -> ConjuntoRead:
        return _read(*await clausulas_service.nova_versao(data))
