"""The render input of a PI or contrato: core-api's tenant-scoped snapshot as a `DocumentSnapshot`,
typed once (built straight from the documents, no dict in between).

Both renderers print from this one object: the legacy routes render it in core-api, and pdf-service
fetches the same object from the internal snapshot endpoint. So the two paths cannot print different
data, only render it in different processes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from shared.auth import Principal
from shared.documents import DocumentKind, DocumentSnapshot
from shared.documents.snapshot import (
    LOCAL_TZ,
    AgenciaSnapshot,
    Clausula,
    ClienteSnapshot,
    EmpresaSnapshot,
    Pagamento,
    Parcela,
    Periodo,
    PlacaSnapshot,
    RepresentanteSnapshot,
)

from core_api.domain.alugueis.models import Aluguel
from core_api.domain.clientes.models import Cliente
from core_api.domain.contratos.models import Contrato
from core_api.domain.contratos.services import ContratoService
from core_api.domain.empresas.logo import LogoStore
from core_api.domain.empresas.models import Empresa
from core_api.domain.pis.models import PI
from core_api.domain.pis.models import Pagamento as PagamentoPI
from core_api.domain.pis.services import PIService
from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.lib.documents import Representante
from core_api.lib.repository import TenantRepository

#: printed where core-api no longer has a referenced record (a deleted cliente, placa or região)
MISSING = "—"


def _local_day(value: datetime) -> datetime:
    """A stored instant as an aware datetime (BSON dates may come back naive: they are UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def pi_numero(pi_id: str, created_at: datetime | None) -> str:
    """PIs made before numbering have no code: 'ano/último 6 hex do id' identifies one (2026/3FA91C)."""
    year = _local_day(created_at).astimezone(LOCAL_TZ).year if created_at else ""
    return f"{year}/{pi_id[-6:].upper()}".lstrip("/")


def _representante(value: Representante | None) -> RepresentanteSnapshot | None:
    return RepresentanteSnapshot(nome=value.nome, cpf=value.cpf, cargo=value.cargo) if value else None


def _pagamento(value: PagamentoPI | None) -> Pagamento | None:
    if value is None:
        return None
    return Pagamento(
        forma=value.forma,
        meio=value.meio,
        parcelas=[Parcela(vencimento=p.vencimento, valor_centavos=p.valor_centavos) for p in value.parcelas],
    )


async def empresa_snapshot(state: State, empresa: Empresa) -> EmpresaSnapshot:
    """The empresa as printed: its whole profile (sede, contacts, representative), the logo inlined."""
    logo = (
        await LogoStore(state.db).data_uri(empresa.logo.file_id, empresa.logo.content_type)
        if empresa.logo is not None
        else None
    )
    return EmpresaSnapshot(
        id=str(empresa.id),
        nome=empresa.nome,
        cnpj=empresa.cnpj,
        endereco=empresa.endereco,
        cidade=empresa.cidade,
        uf=empresa.uf,
        telefone=empresa.telefone,
        email=empresa.email,
        representante=_representante(empresa.representante),
        logo_data_uri=logo,
    )


async def document_snapshot(
    state: State, empresa: Empresa, pi: PI, contrato: Contrato | None = None
) -> DocumentSnapshot:
    """The `DocumentSnapshot` of a PI, or of the contrato made from it, built straight from the
    documents (read for `empresa` only; the PI and contrato are the caller's, read once).

    Everything printed comes from stored data (the issue date is the record's creation day), so two
    renders of the same record give the same text on either path.
    """
    if pi.empresa_id != empresa.id or (contrato is not None and contrato.empresa_id != empresa.id):
        raise NotFoundException(f"PI {pi.id} not found")
    assert empresa.id is not None and pi.id is not None  # read from MongoDB
    cliente = await TenantRepository(Cliente, empresa.id, "cliente").find_one({"_id": pi.cliente_id})
    placas = {
        p.id: p
        for p in await TenantRepository(Placa, empresa.id, "placa").find_many({"_id": {"$in": pi.placa_ids}})
    }
    regioes = {
        r.id: r
        for r in await TenantRepository(Regiao, empresa.id, "região").find_many(
            {"_id": {"$in": list({p.regiao_id for p in placas.values()})}}
        )
    }
    alugueis = {
        a.placa_id: a
        for a in await TenantRepository(Aluguel, empresa.id, "aluguel").find_many({"pi_id": pi.id})
    }
    itens = {i.placa_id: i for i in pi.itens}

    def placa_snapshot(placa_id: PydanticObjectId) -> PlacaSnapshot:
        placa, aluguel, item = placas.get(placa_id), alugueis.get(placa_id), itens.get(placa_id)
        regiao = regioes.get(placa.regiao_id) if placa else None
        return PlacaSnapshot(
            id=str(placa_id),
            numero=(placa.numero if placa else None) or MISSING,
            endereco=(placa.endereco if placa else None) or MISSING,
            regiao=(regiao.nome if regiao else None) or MISSING,
            cidade=placa.cidade if placa else None,
            uf=placa.uf if placa else None,
            tipo=placa.tipo if placa else None,
            largura_cm=placa.largura_cm if placa else None,
            altura_cm=placa.altura_cm if placa else None,
            # the item's gross value and discount (PIs made before items existed: the aluguel's value)
            valor_centavos=item.valor_centavos if item else (aluguel.valor_centavos if aluguel else None),
            desconto_centavos=item.desconto_centavos if item and item.desconto_centavos else None,
        )

    numero_pi = pi.codigo or pi_numero(str(pi.id), pi.created_at)
    kind: DocumentKind = "contrato" if contrato is not None else "pi"
    return DocumentSnapshot(
        kind=kind,
        source_id=str(contrato.id if contrato is not None else pi.id),
        numero=contrato.codigo if contrato is not None else numero_pi,
        emitido_em=_local_day(contrato.created_at if contrato is not None else pi.created_at),
        empresa=await empresa_snapshot(state, empresa),
        cliente=ClienteSnapshot(
            id=str(pi.cliente_id),
            nome=(cliente.nome if cliente else None) or MISSING,
            documento=cliente.documento if cliente else None,
            endereco=cliente.endereco if cliente else None,
            email=cliente.email if cliente else None,
            telefone=cliente.telefone if cliente else None,
            responsavel=cliente.responsavel if cliente else None,
            representante=_representante(cliente.representante) if cliente else None,
        ),
        # the first and last booked days (America/Sao_Paulo), as the PI's aluguéis hold them
        periodo=Periodo(inicio=pi.dia_inicio, fim=pi.dia_fim),
        placas=[placa_snapshot(placa_id) for placa_id in pi.placa_ids],
        valor_total_centavos=(contrato or pi).valor_total_centavos,
        produto=(contrato or pi).produto,
        descricao=pi.descricao,
        pi_numero=numero_pi if contrato is not None else None,
        agencia=AgenciaSnapshot(
            nome=pi.agencia.nome, documento=pi.agencia.documento, comissao_bp=pi.agencia.comissao_bp
        )
        if pi.agencia
        else None,
        material=pi.material,
        producao_material=pi.producao_material,
        material_entrega_ate=pi.material_entrega_ate,
        autorizado_por=pi.autorizado_por,
        autorizado_em=pi.autorizado_em,
        # a contrato prints its own payment terms and the clauses it was signed with
        pagamento=_pagamento((contrato.pagamento if contrato is not None else None) or pi.pagamento),
        clausulas_contrato=[Clausula(titulo=c.titulo, texto=c.texto) for c in contrato.clausulas]
        if contrato is not None and contrato.clausulas
        else None,
        clausulas_versao=contrato.clausulas_versao if contrato is not None else None,
    )


class DocumentSnapshotService:
    """The snapshot of one of the caller's PIs or contratos (another empresa's or a bad id: 404)."""

    def __init__(self, principal: Principal, state: State) -> None:
        self.principal = principal
        self.state = state
        self.empresa_id = PydanticObjectId(principal.empresa_id)

    async def snapshot(self, kind: DocumentKind, source_id: str, *, pi: PI | None = None) -> DocumentSnapshot:
        """`pi`: the PI already read by the caller (a PI job checks its status first), not read again."""
        contrato = None
        if kind == "contrato":
            contrato = await ContratoService(self.principal, self.state).get(source_id)
            pi = await TenantRepository(PI, self.empresa_id, "PI").find_one({"_id": contrato.pi_id})
            if pi is None:
                raise NotFoundException(f"PI {contrato.pi_id} of contrato {contrato.codigo} not found")
        elif pi is None:
            pi = await PIService(self.principal, self.state).get(source_id)
        empresa = await Empresa.get(self.empresa_id)
        if empresa is None:
            raise NotFoundException("empresa not found")
        return await document_snapshot(self.state, empresa, pi, contrato)
