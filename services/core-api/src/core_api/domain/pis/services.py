"""PIs: all-or-nothing booking of several placas, the status workflow, and the PDF snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, ServiceUnavailableException, ValidationException
from shared.auth import Principal
from shared.metrics import entity_created

from core_api.domain.alugueis.booking import (
    MAX_SLOTS,
    TZ,
    ItemReserva,
    ReservaConflito,
    ReservaExpirada,
    Reservas,
    dias_do_periodo,
)
from core_api.domain.alugueis.models import Aluguel
from core_api.domain.alugueis.services import VISIVEL, conflito, periodo_filter
from core_api.domain.clientes.models import Cliente
from core_api.domain.empresas.models import Empresa
from core_api.domain.pis.models import PI
from core_api.domain.pis.schemas import PICreate, PIStatusPublico, PIUpdate
from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.lib.documents import utcnow
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository, parse_object_id

PI_SORT = {
    "createdAt": "created_at",
    "inicio": "inicio",
    "fim": "fim",
    "valorTotalCentavos": "valor_total_centavos",
}
#: the workflow: only these moves are allowed (vencida is em_andamento past its end)
TRANSICOES: dict[str, set[str]] = {
    "em_andamento": {"concluida", "cancelada"},
    "vencida": {"concluida", "cancelada"},
    "concluida": set(),
    "cancelada": set(),
}


def status_publico(pi: PI, now: datetime | None = None) -> PIStatusPublico:
    """The status clients see: `vencida` is computed on read, never stored (see docs)."""
    if pi.status == "em_andamento" and pi.fim <= (now or utcnow()):
        return "vencida"
    return pi.status  # type: ignore[return-value]


def dividir(total: int, partes: int) -> list[int]:
    """Split cents exactly: the first `total % partes` shares get one cent more."""
    base, resto = divmod(total, partes)
    return [base + (1 if i < resto else 0) for i in range(partes)]


class PIService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.empresa_id = PydanticObjectId(principal.empresa_id)
        self.repo = TenantRepository(PI, self.empresa_id, "PI")
        self.placas = TenantRepository(Placa, self.empresa_id, "placa")
        self.clientes = TenantRepository(Cliente, self.empresa_id, "cliente")
        self.alugueis = TenantRepository(Aluguel, self.empresa_id, "aluguel")
        self.reservas = Reservas(state.db)

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
    ) -> tuple[list[PI], int]:
        now = utcnow()
        conditions: list[dict[str, Any]] = [VISIVEL]
        if periodo := periodo_filter(inicio, fim):
            conditions.append(periodo)
        if cliente_id is not None:
            conditions.append({"cliente_id": parse_object_id(cliente_id, "cliente")})
        if placa_id is not None:
            conditions.append({"placa_ids": parse_object_id(placa_id, "placa")})
        if status == "vencida":
            conditions.append({"status": "em_andamento", "fim": {"$lte": now}})
        elif status == "em_andamento":
            conditions.append({"status": "em_andamento", "fim": {"$gt": now}})
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
        if len(dias) * len(data.placa_ids) > MAX_SLOTS:
            raise ValidationException(
                f"a PI may book at most {MAX_SLOTS} placa-days ({len(data.placa_ids)} placas × "
                f"{len(dias)} days here); split it"
            )
        cliente = await self.clientes.get(data.cliente_id)
        placa_oids = [parse_object_id(p, "placa") for p in data.placa_ids]
        found = {p.id: p for p in await self.placas.find_many({"_id": {"$in": placa_oids}})}
        missing = [raw for raw, oid in zip(data.placa_ids, placa_oids, strict=True) if oid not in found]
        if missing:
            raise NotFoundException(f"placa(s) not found: {', '.join(missing)}", extra={"placaIds": missing})
        inativas = sorted(p.numero for p in found.values() if not p.ativa)
        if inativas:
            raise ConflictException(f"placa(s) {', '.join(inativas)} are inactive and cannot be booked")

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
            valor_total_centavos=data.valor_total_centavos,
            produto=data.produto,
            descricao=data.descricao,
            status="pendente",
        )
        await pi.insert()
        try:
            async with self.reservas.protegida("pi", pi_id):
                valores = dividir(data.valor_total_centavos, len(placa_oids))
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
        entity_created("pi")
        entity_created("aluguel", len(aluguel_ids))  # a PI books one aluguel per placa
        return await self.get(str(pi_id))

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
                    raise ConflictException(f"PI {pi_id} is already {atual}", extra={"status": atual})
                alvo = None  # the current status sent along with other fields
            if alvo is not None:
                if alvo not in TRANSICOES[atual]:
                    raise ConflictException(
                        f"a PI that is {atual} cannot become {alvo}; "
                        "allowed: em_andamento or vencida → concluida or cancelada",
                        extra={"status": atual},
                    )
                changes["status"] = alvo
                changes[f"{alvo}_em"] = now
                if alvo == "cancelada":
                    changes["slots_liberados"] = False
            campos: dict[str, Any] = {
                f: getattr(data, f)
                for f in ("produto", "descricao", "valor_total_centavos")
                if f in data.model_fields_set
            }
            if campos and pi.status == "cancelada":
                raise ConflictException("a cancelled PI cannot be changed", extra={"status": "cancelada"})
            novo_valor = campos.get("valor_total_centavos", pi.valor_total_centavos)
            if novo_valor != pi.valor_total_centavos:
                # a contrato copies the PI's value: the two must not disagree (contrato creation
                # holds this same lease, so one made meanwhile is seen here)
                from core_api.domain.contratos.models import Contrato  # the contratos area imports this one

                contrato = await TenantRepository(Contrato, self.empresa_id, "contrato").find_one(
                    {"pi_id": pi.id}
                )
                if contrato is not None:
                    raise ConflictException(
                        f"PI {pi_id} has contrato {contrato.codigo}; its value, placas and period are fixed",
                        extra={"contratoId": str(contrato.id)},
                    )
            changes.update(campos)
            if not changes:
                return pi
            valor_antes = pi.valor_total_centavos
            pi = await self.repo.write(pi, changes)
            if pi.valor_total_centavos != valor_antes:
                for aluguel_id, valor in zip(
                    pi.aluguel_ids, dividir(pi.valor_total_centavos, len(pi.aluguel_ids)), strict=True
                ):
                    await self.alugueis.write_owned({"_id": aluguel_id}, {"valor_centavos": valor})
        if changes.get("status") == "cancelada":
            # a crash right here is finished by the sweep (status cancelada, slots_liberados False)
            assert pi.id is not None  # read from MongoDB
            await self.reservas.liberar_cancelada("pi", pi.id)
        return await self.get(pi_id)

    async def cancel(self, pi_id: str) -> PI:
        pi = await self.get(pi_id)
        if pi.status == "cancelada":
            raise ConflictException(f"PI {pi_id} is already cancelada", extra={"status": "cancelada"})
        return await self.update(pi_id, PIUpdate(status="cancelada"))

    async def snapshot(self, pi_id: str) -> dict[str, Any]:
        """Everything a PDF of this PI needs (see `build_pi_snapshot`)."""
        pi = await self.get(pi_id)
        empresa = await Empresa.get(self.empresa_id)
        if empresa is None:
            raise NotFoundException("empresa not found")
        return await build_pi_snapshot(empresa, pi)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def build_pi_snapshot(empresa: Empresa, pi: PI) -> dict[str, Any]:
    """A plain, JSON-ready dict with everything needed to render this PI, read for `empresa` only.

    Keys are snake_case; ids and datetimes are strings (ISO 8601, UTC); money is integer cents;
    `dia_inicio`/`dia_fim` are the first and last booked days in America/Sao_Paulo (what a
    document prints as dd/mm/aaaa). Placas keep the PI's order, each with its região and share.
    """
    if pi.empresa_id != empresa.id:
        raise NotFoundException(f"PI {pi.id} not found")
    empresa_id = empresa.id
    cliente = await TenantRepository(Cliente, empresa_id, "cliente").find_one({"_id": pi.cliente_id})
    placas = {
        p.id: p
        for p in await TenantRepository(Placa, empresa_id, "placa").find_many({"_id": {"$in": pi.placa_ids}})
    }
    regioes = {
        r.id: r
        for r in await TenantRepository(Regiao, empresa_id, "região").find_many(
            {"_id": {"$in": list({p.regiao_id for p in placas.values()})}}
        )
    }
    alugueis = {
        a.placa_id: a
        for a in await TenantRepository(Aluguel, empresa_id, "aluguel").find_many({"pi_id": pi.id})
    }
    itens = []
    for placa_id in pi.placa_ids:
        placa = placas.get(placa_id)
        aluguel = alugueis.get(placa_id)
        regiao = regioes.get(placa.regiao_id) if placa else None
        itens.append(
            {
                "id": str(placa_id),
                "numero": placa.numero if placa else None,
                "endereco": placa.endereco if placa else None,
                "cidade": placa.cidade if placa else None,
                "uf": placa.uf if placa else None,
                "tipo": placa.tipo if placa else None,
                "largura_cm": placa.largura_cm if placa else None,
                "altura_cm": placa.altura_cm if placa else None,
                "regiao": {"id": str(regiao.id), "nome": regiao.nome} if regiao else None,
                "aluguel_id": str(aluguel.id) if aluguel else None,
                "valor_centavos": aluguel.valor_centavos if aluguel else None,
            }
        )
    return {
        "tipo": "pi",
        "empresa": {"id": str(empresa.id), "nome": empresa.nome, "cnpj": empresa.cnpj},
        "pi": {
            "id": str(pi.id),
            "status": status_publico(pi),
            "produto": pi.produto,
            "descricao": pi.descricao,
            "inicio": _iso(pi.inicio),
            "fim": _iso(pi.fim),
            "dia_inicio": pi.dia_inicio,
            "dia_fim": pi.dia_fim,
            "timezone": TZ.key,
            "valor_total_centavos": pi.valor_total_centavos,
            "created_at": _iso(pi.created_at),
        },
        "cliente": {
            "id": str(pi.cliente_id),
            "nome": cliente.nome if cliente else None,
            "documento": cliente.documento if cliente else None,
            "email": cliente.email if cliente else None,
            "telefone": cliente.telefone if cliente else None,
            "responsavel": cliente.responsavel if cliente else None,
            "endereco": cliente.endereco if cliente else None,
            "representante": cliente.representante.model_dump()
            if cliente and cliente.representante
            else None,
        },
        "placas": itens,
    }
