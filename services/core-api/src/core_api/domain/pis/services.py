"""PIs: all-or-nothing booking of several placas, the status workflow, and the PDF snapshot."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import (
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from shared.auth import Principal
from shared.metrics import entity_created

from core_api.domain.alugueis.booking import (
    MAX_SLOTS,
    ItemReserva,
    ReservaConflito,
    ReservaExpirada,
    Reservas,
    dias_do_periodo,
)
from core_api.domain.alugueis.models import Aluguel
from core_api.domain.alugueis.services import VISIVEL, conflito, periodo_filter
from core_api.domain.clientes.models import Cliente
from core_api.domain.pis.models import PI, Agencia, DocumentoGerado, ItemPI, Pagamento, Parcela
from core_api.domain.pis.numeracao import NumeracaoPI
from core_api.domain.pis.schemas import PICreate, PIUpdate
from core_api.domain.pis.workflow import (
    CORRENDO,
    TRANSICOES,
    VALOR_FIXO,
    PIStatusPublico,
    recusa_da_transicao,
    status_visivel,
)
from core_api.domain.placas.models import Placa
from core_api.lib.documents import utcnow
from core_api.lib.effects import apply_once
from core_api.lib.errors import ConflictException, conflict, invalid, item, not_found
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository, parse_object_id, text_filter

log = logging.getLogger(__name__)

PI_SORT = {
    "createdAt": "created_at",
    "inicio": "inicio",
    "fim": "fim",
    "valorTotalCentavos": "valor_total_centavos",
}
__all__ = ["TRANSICOES", "PIService", "registrar_documento", "status_publico"]


def status_publico(pi: PI, now: datetime | None = None) -> PIStatusPublico:
    """The status clients see: `vencida` is computed on read, never stored (domain/pis/workflow.py)."""
    return status_visivel(pi.status, pi.fim, now or utcnow())  # type: ignore[return-value]


def dividir(total: int, partes: int) -> list[int]:
    """Split cents exactly: the first `total % partes` shares get one cent more."""
    base, resto = divmod(total, partes)
    return [base + (1 if i < resto else 0) for i in range(partes)]


def ratear(total: int, pesos: list[int]) -> list[int]:
    """Split cents exactly in proportion to `pesos` (largest remainders get the leftover cents); an even
    split when every weight is zero."""
    soma = sum(pesos)
    if soma <= 0:
        return dividir(total, len(pesos))
    partes = [divmod(total * p, soma) for p in pesos]
    valores = [q for q, _ in partes]
    sobra = total - sum(valores)
    for i in sorted(range(len(pesos)), key=lambda i: (-partes[i][1], i))[:sobra]:
        valores[i] += 1
    return valores


def preco_no_periodo(valor_mensal_centavos: int, dias: int) -> int:
    """A placa's monthly price over `dias` days, pro rata by day (a 30-day commercial month)."""
    return (valor_mensal_centavos * dias + 15) // 30


def valorar_itens(
    data: PICreate, placas: Mapping[Any, Placa], ids: list[PydanticObjectId], dias: int
) -> list[ItemPI]:
    """Each placa's value in the PI; raises a 400 when an explicit total disagrees with the items."""
    pedidos = data.itens_pedidos()
    tabela = [preco_no_periodo(placas[oid].valor_mensal_centavos, dias) for oid in ids]
    explicitos = any(p.valor_centavos is not None or p.desconto_centavos for p in pedidos)
    if data.valor_total_centavos is not None and not explicitos:
        # a negotiated total: spread over the placas in proportion to their list prices
        valores = ratear(data.valor_total_centavos, tabela)
        return [ItemPI(placa_id=oid, valor_centavos=v) for oid, v in zip(ids, valores, strict=True)]
    itens = []
    for oid, pedido, preco in zip(ids, pedidos, tabela, strict=True):
        valor = pedido.valor_centavos if pedido.valor_centavos is not None else preco
        if pedido.desconto_centavos > valor:
            raise invalid(
                f"the discount of placa {placas[oid].numero} ({pedido.desconto_centavos}) exceeds its value ({valor})",
                "itens",
            )
        itens.append(ItemPI(placa_id=oid, valor_centavos=valor, desconto_centavos=pedido.desconto_centavos))
    total = sum(i.liquido_centavos for i in itens)
    if data.valor_total_centavos is not None and data.valor_total_centavos != total:
        raise invalid(
            f"valorTotalCentavos is {data.valor_total_centavos} but the items add up to {total}; "
            "omit it (the total is the items' sum) or make them agree",
            "valorTotalCentavos",
        )
    return itens


def pagamento_do_pi(data: PICreate, total: int) -> Pagamento | None:
    if data.pagamento is None:
        return None
    soma = sum(p.valor_centavos for p in data.pagamento.parcelas)
    if soma != total:
        raise invalid(f"the parcelas add up to {soma} but the PI's total is {total}", "pagamento.parcelas")
    return Pagamento(
        forma=data.pagamento.forma,
        meio=data.pagamento.meio,
        parcelas=[
            Parcela(vencimento=p.vencimento.isoformat(), valor_centavos=p.valor_centavos)
            for p in data.pagamento.parcelas
        ],
    )


class PIService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.principal = principal
        self.empresa_id = PydanticObjectId(principal.empresa_id)
        self.repo = TenantRepository(PI, self.empresa_id, "PI")
        self.placas = TenantRepository(Placa, self.empresa_id, "placa")
        self.clientes = TenantRepository(Cliente, self.empresa_id, "cliente")
        self.alugueis = TenantRepository(Aluguel, self.empresa_id, "aluguel")
        self.reservas = Reservas(state.db)
        self.numeracao = NumeracaoPI(self.empresa_id)

    async def get(self, pi_id: str) -> PI:
        oid = parse_object_id(pi_id, "PI")
        doc = await self.repo.find_one({"_id": oid, **VISIVEL})
        if doc is None:
            raise NotFoundException(f"PI {pi_id} not found")
        return doc

    async def list(
        self,
        params: ListParams,
        *,
        cliente_id: str | None,
        placa_id: str | None,
        status: str | None,
        inicio: datetime | None,
        fim: datetime | None,
        q: str | None = None,
    ) -> tuple[list[PI], int]:
        now = utcnow()
        conditions: list[dict[str, Any]] = [VISIVEL]
        if q:
            conditions.append(text_filter(("codigo", "produto", "descricao"), q))
        if periodo := periodo_filter(inicio, fim):
            conditions.append(periodo)
        if cliente_id is not None:
            conditions.append({"cliente_id": parse_object_id(cliente_id, "cliente")})
        if placa_id is not None:
            conditions.append({"placa_ids": parse_object_id(placa_id, "placa")})
        if status == "vencida":
            conditions.append({"status": {"$in": sorted(CORRENDO)}, "fim": {"$lte": now}})
        elif status in CORRENDO:
            conditions.append({"status": status, "fim": {"$gt": now}})
        elif status is not None:
            conditions.append({"status": status})
        return await self.repo.page(
            {"$and": conditions},
            page=params.page,
            page_size=params.page_size,
            sort=db_sort(params.sort, PI_SORT),
            allowed_sort=tuple(PI_SORT.values()),
        )

    async def create(self, data: PICreate) -> PI:
        """Book every placa for the period, or none of them (409 naming the taken ones)."""
        dias = dias_do_periodo(data.inicio, data.fim)
        if len(dias) * len(data.itens_pedidos()) > MAX_SLOTS:
            raise invalid(
                f"a PI may book at most {MAX_SLOTS} placa-days ({len(data.itens_pedidos())} placas × "
                f"{len(dias)} days here); split it",
                "placaIds" if data.placa_ids is not None else "itens",
            )
        cliente = await self.clientes.get(data.cliente_id)
        placa_ids = [i.placa_id for i in data.itens_pedidos()]
        placa_oids = [parse_object_id(p, "placa") for p in placa_ids]
        found = {p.id: p for p in await self.placas.find_many({"_id": {"$in": placa_oids}})}
        missing = [raw for raw, oid in zip(placa_ids, placa_oids, strict=True) if oid not in found]
        if missing:
            raise not_found(f"placa(s) not found: {', '.join(missing)}", "placa", *missing)
        inativas = sorted((p for p in found.values() if not p.ativa), key=lambda p: p.numero)
        if inativas:
            raise conflict(
                f"placa(s) {', '.join(p.numero for p in inativas)} are inactive and cannot be booked",
                "state",
                *(item("placa", id=str(p.id), label=p.numero, status="inativa") for p in inativas),
            )

        itens = valorar_itens(data, found, placa_oids, len(dias))
        total = sum(i.liquido_centavos for i in itens)
        pagamento = pagamento_do_pi(data, total)
        pi_id = PydanticObjectId()
        aluguel_ids = [PydanticObjectId() for _ in placa_oids]
        pi = PI(
            id=pi_id,
            empresa_id=self.empresa_id,
            cliente_id=cliente.id,
            placa_ids=placa_oids,
            aluguel_ids=aluguel_ids,
            inicio=data.inicio,
            fim=data.fim,
            dia_inicio=dias[0],
            dia_fim=dias[-1],
            valor_total_centavos=total,
            itens=itens,
            produto=data.produto,
            descricao=data.descricao,
            status="pendente",
            agencia=Agencia(**data.agencia.model_dump()) if data.agencia else None,
            material=data.material,
            producao_material=data.producao_material,
            material_entrega_ate=data.material_entrega_ate.isoformat() if data.material_entrega_ate else None,
            autorizado_por=data.autorizado_por,
            autorizado_em=data.autorizado_em.isoformat() if data.autorizado_em else None,
            pagamento=pagamento,
            # a draft is booked like any PI (its placas are held) but committed as rascunho
            efetivar_como="rascunho" if data.status == "rascunho" else None,
            numerar=True,
        )
        await pi.insert()
        try:
            async with self.reservas.protegida("pi", pi_id):
                valores = [i.liquido_centavos for i in itens]
                await Aluguel.insert_many(
                    [
                        Aluguel(
                            id=aluguel_id,
                            empresa_id=self.empresa_id,
                            placa_id=placa_id,
                            cliente_id=cliente.id,
                            pi_id=pi_id,
                            inicio=data.inicio,
                            fim=data.fim,
                            dia_inicio=dias[0],
                            dia_fim=dias[-1],
                            valor_centavos=valor,
                            status="pendente",
                        )
                        for aluguel_id, placa_id, valor in zip(aluguel_ids, placa_oids, valores, strict=True)
                    ]
                )
                await self.reservas.reservar(
                    empresa_id=self.empresa_id,
                    reserva_tipo="pi",
                    reserva_id=pi_id,
                    itens=[ItemReserva(a, p) for a, p in zip(aluguel_ids, placa_oids, strict=True)],
                    dias=dias,
                )
                await self.reservas.efetivar("pi", pi_id)
        except ReservaConflito as exc:
            raise conflito(found, exc, dias) from None
        except ReservaExpirada:
            raise ServiceUnavailableException("the booking took too long and was undone; retry") from None
        await self._numerar(pi_id)
        entity_created("pi")
        entity_created("aluguel", len(aluguel_ids))  # a PI books one aluguel per placa
        return await self.get(str(pi_id))

    async def _numerar(self, pi_id: PydanticObjectId) -> None:
        """Give a committed PI the next number of its empresa and year (PI-2026-000123): reserved by a
        unique insert, then written on the PI (domain/pis/numeracao.py). The booking has committed by
        now, so a numbering that cannot finish (the PI busy, the store down, the process dying) is
        completed by the recovery rather than failing a request whose placas are booked."""
        try:
            await self.numeracao.numerar(pi_id)
        except (ConflictException, ServiceUnavailableException) as exc:
            log.warning("PI %s is booked; its number is left to the recovery: %s", pi_id, exc)

    async def update(self, pi_id: str, data: PIUpdate) -> PI:
        """Edit or move the status, compare-and-set under the PI's lease: of racing transitions
        exactly one wins, and a contrato made meanwhile is seen before the value changes."""
        await self.get(pi_id)  # 404 for pendente (invisible) ones
        async with self.repo.locked(pi_id) as pi:
            atual = status_publico(pi)
            now = utcnow()
            changes: dict[str, Any] = {}
            alvo = data.status if "status" in data.model_fields_set else None
            if alvo is not None and alvo == atual:
                if data.model_fields_set == {"status"}:
                    # a transition, not a no-op: of racing requests for it only the first gets 200
                    raise conflict(
                        f"PI {pi_id} is already {atual}", "state", item("pi", id=str(pi.id), status=atual)
                    )
                alvo = None  # the current status sent along with other fields
            if alvo is not None:
                recusa = recusa_da_transicao(atual, alvo, self.principal.role)
                if recusa is not None and recusa.kind == "forbidden":
                    raise PermissionDeniedException(recusa.message, extra={"requiredRole": "admin"})
                if recusa is not None:
                    raise conflict(recusa.message, "state", item("pi", id=str(pi.id), status=atual))
                por = self.principal.user_id
                changes["status"] = alvo
                changes["historico"] = [
                    *(t.model_dump() for t in pi.historico),
                    {"de": atual, "para": alvo, "em": now, "por": por},
                ]
                if alvo != "rascunho":
                    changes[f"{alvo}_em"] = now
                if alvo in ("aprovada", "assinada"):
                    changes[f"{alvo}_por"] = por
                if alvo == "rascunho":
                    # reopened: the approval no longer holds
                    changes.update(aprovada_em=None, aprovada_por=None)
                if alvo == "cancelada":
                    changes["slots_liberados"] = False
            campos: dict[str, Any] = {
                f: getattr(data, f)
                for f in ("produto", "descricao", "valor_total_centavos")
                if f in data.model_fields_set
            }
            if campos and pi.status == "cancelada":
                raise conflict(
                    "a cancelled PI cannot be changed", "state", item("pi", id=str(pi.id), status="cancelada")
                )
            novo_valor = campos.get("valor_total_centavos", pi.valor_total_centavos)
            if novo_valor != pi.valor_total_centavos and pi.status in VALOR_FIXO:
                raise conflict(
                    f"PI {pi_id} is {pi.status}: its value is fixed; an admin can reopen it as rascunho",
                    "state",
                    item("pi", id=str(pi.id), status=pi.status),
                )
            if novo_valor != pi.valor_total_centavos:
                # a contrato copies the PI's value: the two must not disagree (contrato creation
                # holds this same lease, so one made meanwhile is seen here)
                from core_api.domain.contratos.models import Contrato  # the contratos area imports this one

                contrato = await TenantRepository(Contrato, self.empresa_id, "contrato").find_one(
                    {"pi_id": pi.id}
                )
                if contrato is not None:
                    raise conflict(
                        f"PI {pi_id} has contrato {contrato.codigo}; its value, placas and period are fixed",
                        "state",
                        item("contrato", id=str(contrato.id), label=contrato.codigo),
                    )
            changes.update(campos)
            if not changes:
                return pi
            valor_antes = pi.valor_total_centavos
            pi = await self.repo.write(pi, changes)
            if pi.valor_total_centavos != valor_antes:
                liquidos = ratear(
                    pi.valor_total_centavos,
                    [i.liquido_centavos for i in pi.itens] or [1] * len(pi.aluguel_ids),
                )
                ajustes: dict[str, Any] = {}
                if pi.itens:
                    ajustes["itens"] = [
                        {**i.model_dump(), "valor_centavos": v + i.desconto_centavos}
                        for i, v in zip(pi.itens, liquidos, strict=True)
                    ]
                if pi.pagamento:
                    # the parcelas keep adding up to the total: rescaled in proportion
                    novas = ratear(pi.valor_total_centavos, [p.valor_centavos for p in pi.pagamento.parcelas])
                    ajustes["pagamento"] = {
                        **pi.pagamento.model_dump(),
                        "parcelas": [
                            {**p.model_dump(), "valor_centavos": v}
                            for p, v in zip(pi.pagamento.parcelas, novas, strict=True)
                        ],
                    }
                if ajustes:
                    pi = await self.repo.write(pi, ajustes)
                for aluguel_id, valor in zip(pi.aluguel_ids, liquidos, strict=True):
                    await self.alugueis.write_owned({"_id": aluguel_id}, {"valor_centavos": valor})
        if changes.get("status") == "cancelada":
            # a crash right here is finished by the sweep (status cancelada, slots_liberados False)
            assert pi.id is not None  # read from MongoDB
            await self.reservas.liberar_cancelada("pi", pi.id)
        return await self.get(pi_id)

    async def cancel(self, pi_id: str) -> PI:
        pi = await self.get(pi_id)
        if pi.status == "cancelada":
            raise conflict(
                f"PI {pi_id} is already cancelada", "state", item("pi", id=str(pi.id), status="cancelada")
            )
        return await self.update(pi_id, PIUpdate(status="cancelada"))

    async def registrar_documento(
        self, pi_id: str | PydanticObjectId, documento: DocumentoGerado, *, event_id: str
    ) -> bool:
        """Record a PDF pdf-service generated for this PI, once per event (see `registrar_documento`)."""
        return await registrar_documento(self.repo, pi_id, documento, event_id=event_id)


async def registrar_documento(
    repo: TenantRepository[Any],
    owner_id: str | PydanticObjectId,
    documento: DocumentoGerado,
    *,
    event_id: str,
) -> bool:
    """Add `documento` to a PI's or contrato's `documentos`: compare-and-set under its lease, once per
    event id (`core_api.lib.effects`) and once per job (a re-published outcome has a new event id).
    True when this call recorded it; 404 when the PI/contrato is not the empresa's (or gone)."""
    async with repo.locked(owner_id) as owner:

        async def add() -> None:
            if any(doc.job_id == documento.job_id for doc in owner.documentos):
                return
            documentos = [doc.model_dump() for doc in owner.documentos] + [documento.model_dump()]
            await repo.write(owner, {"documentos": documentos})

        return await apply_once(repo.db, event_id, f"{repo.collection_name}.documentos", add)
