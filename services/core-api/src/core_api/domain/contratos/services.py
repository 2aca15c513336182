"""Contratos: made from a PI, numbered per empresa (gapless, under the numbering lease)."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId, SortDirection
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from shared.auth import Principal
from shared.documents.clausulas import resolve_clausulas
from shared.metrics import entity_created

from core_api.domain.alugueis.booking import TZ
from core_api.domain.contratos.clausulas import conjunto_vigente
from core_api.domain.contratos.models import ClausulaTexto, ConjuntoClausulas, Contrato
from core_api.domain.contratos.schemas import ContratoCreate
from core_api.domain.empresas.models import Empresa
from core_api.domain.pis.models import PI, DocumentoGerado, Pagamento, Parcela
from core_api.domain.pis.services import PIService, registrar_documento, status_publico
from core_api.domain.pis.workflow import recusa_do_contrato
from core_api.lib.documents import utcnow
from core_api.lib.errors import ConflictException, conflict, invalid, item
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository, holding, parse_object_id, text_filter

CONTRATO_SORT = {"numero": "numero", "createdAt": "created_at", "inicio": "inicio"}
#: lease key of an empresa's contrato numbering
SEQUENCIA = "contratos-numero:{empresa_id}"


class ContratoService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.empresa_id = PydanticObjectId(principal.empresa_id)
        self.repo = TenantRepository(Contrato, self.empresa_id, "contrato")
        self.pis = PIService(principal, state)
        self.db = state.db
        self.state = state

    async def get(self, contrato_id: str) -> Contrato:
        return await self.repo.get(contrato_id)

    async def list(
        self, params: ListParams, *, pi_id: str | None, cliente_id: str | None, q: str | None = None
    ) -> tuple[list[Contrato], int]:
        query: dict[str, Any] = text_filter(("codigo", "produto"), q) if q else {}
        if pi_id is not None:
            query["pi_id"] = parse_object_id(pi_id, "PI")
        if cliente_id is not None:
            query["cliente_id"] = parse_object_id(cliente_id, "cliente")
        return await self.repo.page(
            query,
            page=params.page,
            page_size=params.page_size,
            sort=db_sort(params.sort, CONTRATO_SORT),
            allowed_sort=tuple(CONTRATO_SORT.values()),
        )

    async def create(self, data: ContratoCreate) -> Contrato:
        """The PI's contrato, made while holding the PI's lease (so its value cannot change
        meanwhile: `PIService.update` holds the same lease) and the empresa's numbering lease
        (so numbers are distinct and gapless: the next one is the highest stored plus one)."""
        await self.pis.get(data.pi_id)  # 404 for pendente (invisible) ones
        async with self.pis.repo.locked(data.pi_id) as pi:
            atual = status_publico(pi)
            if (recusa := recusa_do_contrato(atual)) is not None:
                raise conflict(f"PI {data.pi_id}: {recusa}", "state", item("pi", id=str(pi.id), status=atual))
            existing = await self.repo.find_one({"pi_id": pi.id})
            if existing is not None:
                raise conflict(
                    f"PI {data.pi_id} already has contrato {existing.codigo}",
                    "duplicate",
                    item("contrato", id=str(existing.id), label=existing.codigo),
                )
            key = SEQUENCIA.format(empresa_id=self.empresa_id)
            async with holding(self.db, key, "the contrato numbering") as lease:
                ultimo = await self.repo.find_many_sorted(
                    {}, sort=[("numero", SortDirection.DESCENDING)], limit=1
                )
                numero = (ultimo[0].numero if ultimo else 0) + 1
                now = utcnow()
                contrato = Contrato(
                    id=PydanticObjectId(),
                    empresa_id=self.empresa_id,
                    pi_id=pi.id,
                    cliente_id=pi.cliente_id,
                    numero=numero,
                    codigo=f"CT-{now.astimezone(TZ).year}-{numero:06d}",
                    inicio=pi.inicio,
                    fim=pi.fim,
                    valor_total_centavos=pi.valor_total_centavos,
                    produto=pi.produto,
                    pagamento=self._pagamento(data, pi),
                    created_at=now,
                    updated_at=now,
                )
                await self._assinar(contrato, pi)
                lease.check()
                try:
                    await self.repo.create(contrato)
                except ConflictException:
                    # the unique indexes (one contrato per PI, one numero per empresa) are the
                    # backstop should a lease ever be outlived
                    raise conflict("the contrato collided with a concurrent one; retry", "busy") from None
        entity_created("contrato")
        return contrato

    def _pagamento(self, data: ContratoCreate, pi: PI) -> Pagamento | None:
        if data.pagamento is None:
            return pi.pagamento
        soma = sum(p.valor_centavos for p in data.pagamento.parcelas)
        if soma != pi.valor_total_centavos:
            raise invalid(
                f"the parcelas add up to {soma} but the contrato's value is {pi.valor_total_centavos}",
                "pagamento.parcelas",
            )
        return Pagamento(
            forma=data.pagamento.forma,
            meio=data.pagamento.meio,
            parcelas=[
                Parcela(vencimento=p.vencimento.isoformat(), valor_centavos=p.valor_centavos)
                for p in data.pagamento.parcelas
            ],
        )

    async def _assinar(self, contrato: Contrato, pi: PI) -> None:
        """Fix the clauses the contrato is signed with: the empresa's current set, resolved for it."""
        from core_api.domain.documentos.snapshots import document_snapshot  # documentos imports this area

        empresa = await Empresa.get(self.empresa_id)
        if empresa is None:
            raise NotFoundException("empresa not found")
        versao, modelos = await conjunto_vigente(TenantRepository(ConjuntoClausulas, self.empresa_id))
        doc = await document_snapshot(self.state, empresa, pi, contrato)
        contrato.clausulas = [
            ClausulaTexto(titulo=c.titulo, texto=c.texto) for c in resolve_clausulas(doc, modelos)
        ]
        contrato.clausulas_versao = versao

    async def cancel(self, contrato_id: str) -> Contrato:
        """Compare-and-set under the contrato's lease: of racing cancels exactly one wins."""
        async with self.repo.locked(contrato_id) as contrato:
            if contrato.status == "cancelado":
                raise conflict(
                    f"contrato {contrato.codigo} is already cancelado",
                    "state",
                    item("contrato", id=str(contrato.id), label=contrato.codigo, status="cancelado"),
                )
            return await self.repo.write(contrato, {"status": "cancelado", "cancelado_em": utcnow()})

    async def registrar_documento(
        self, contrato_id: str | PydanticObjectId, documento: DocumentoGerado, *, event_id: str
    ) -> bool:
        """Record a PDF pdf-service generated for this contrato, once per event (as for PIs)."""
        return await registrar_documento(self.repo, contrato_id, documento, event_id=event_id)
