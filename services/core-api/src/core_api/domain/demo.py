"""Demo data for a fresh database (`core-api demo-data`): one empresa, its admin, regiões, placas,
clientes, aluguéis, PIs and a contrato in São Paulo.

One function per area, each taking the `DemoContext` built so far and adding its ids to it; another
area extends the demo by writing `seed_<area>(ctx)` and adding it to `SEEDERS`. Aluguéis, PIs and
contratos go through their services (as the demo admin), so the demo books placas by the API's rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from beanie import PydanticObjectId
from litestar.datastructures import State
from shared.auth import Principal

from core_api.domain.alugueis.booking import TZ
from core_api.domain.alugueis.schemas import AluguelCreate
from core_api.domain.alugueis.services import AluguelService
from core_api.domain.clientes.models import Cliente
from core_api.domain.contratos.schemas import ContratoCreate
from core_api.domain.contratos.services import ContratoService
from core_api.domain.empresas.models import Empresa
from core_api.domain.pis.schemas import PICreate
from core_api.domain.pis.services import PIService
from core_api.domain.placas.models import Placa
from core_api.domain.regioes.models import Regiao
from core_api.domain.users.models import User
from core_api.domain.users.passwords import hash_password, verify_password
from core_api.lib.documents import utcnow

DEMO_EMPRESA = "Outdoor Demo"
DEMO_EMAIL = "demo@outdoor.local"
#: a development-only login, printed by `make up`; the CLI refuses it outside development
DEMO_PASSWORD = "demo-outdoor-2025"  # noqa: S105


@dataclass
class DemoContext:
    """What the seeders created so far, for the next seeder to reference."""

    empresa_id: PydanticObjectId
    admin_id: PydanticObjectId
    regioes: dict[str, PydanticObjectId] = field(default_factory=dict)
    placas: dict[str, PydanticObjectId] = field(default_factory=dict)
    clientes: dict[str, PydanticObjectId] = field(default_factory=dict)
    extra: dict[str, list[str]] = field(default_factory=dict)


async def seed_empresa(password: str) -> DemoContext:
    empresa = await Empresa(nome=DEMO_EMPRESA, cnpj="11222333000181").insert()
    admin = await User(
        empresa_id=empresa.id,
        nome="Admin Demo",
        email=DEMO_EMAIL,
        password_hash=await hash_password(password),
        role="admin",
    ).insert()
    return DemoContext(empresa_id=empresa.id, admin_id=admin.id)  # type: ignore[arg-type]


async def seed_regioes(ctx: DemoContext) -> None:
    for nome, descricao in [
        ("Centro", "Sé, República, Bela Vista"),
        ("Zona Sul", "Moema, Vila Mariana, Santo Amaro"),
        ("Zona Oeste", "Pinheiros, Lapa, Butantã"),
        ("Zona Leste", "Tatuapé, Mooca, Penha"),
    ]:
        regiao = await Regiao(empresa_id=ctx.empresa_id, nome=nome, descricao=descricao).insert()
        ctx.regioes[nome] = regiao.id  # type: ignore[assignment]


_PLACAS = [
    ("SP-001", "Centro", "Av. Paulista, 1578 - Bela Vista", "frontlight", 350000),
    ("SP-002", "Centro", "Rua da Consolação, 2200 - Consolação", "outdoor", 220000),
    ("SP-003", "Centro", "Av. Ipiranga, 344 - República", "outdoor", 210000),
    ("SP-004", "Zona Sul", "Av. Ibirapuera, 3103 - Moema", "painel digital", 480000),
    ("SP-005", "Zona Sul", "Av. Santo Amaro, 4500 - Brooklin", "outdoor", 190000),
    ("SP-006", "Zona Sul", "Rua Domingos de Morais, 2564 - Vila Mariana", "outdoor", 180000),
    ("SP-007", "Zona Oeste", "Av. Rebouças, 3970 - Pinheiros", "frontlight", 300000),
    ("SP-008", "Zona Oeste", "Rua Clélia, 1800 - Lapa", "outdoor", 160000),
    ("SP-009", "Zona Oeste", "Av. Prof. Francisco Morato, 2700 - Butantã", "outdoor", 150000),
    ("SP-010", "Zona Leste", "Rua Tuiuti, 2200 - Tatuapé", "outdoor", 170000),
    ("SP-011", "Zona Leste", "Av. Paes de Barros, 1000 - Mooca", "painel digital", 390000),
    ("SP-012", "Zona Leste", "Av. Amador Bueno da Veiga, 1500 - Penha", "outdoor", 140000),
]


async def seed_placas(ctx: DemoContext) -> None:
    for numero, regiao, endereco, tipo, valor in _PLACAS:
        placa = await Placa(
            empresa_id=ctx.empresa_id,
            numero=numero,
            regiao_id=ctx.regioes[regiao],
            endereco=endereco,
            cidade="São Paulo",
            uf="SP",
            tipo=tipo,
            largura_cm=900,
            altura_cm=300,
            valor_mensal_centavos=valor,
        ).insert()
        ctx.placas[numero] = placa.id  # type: ignore[assignment]


async def seed_clientes(ctx: DemoContext) -> None:
    for nome, documento, email, responsavel in [
        ("Padaria Pão de Ouro", "11444777000161", "contato@paodeouro.example", "João Pereira"),
        ("Academia Corpo em Forma", "45723174000110", "marketing@corpoemforma.example", "Carla Dias"),
        ("Imobiliária Horizonte", "60701190000104", "midia@horizonte.example", "Renato Lima"),
        ("Auto Escola Direção Certa", "33000167000101", "contato@direcaocerta.example", "Paula Ramos"),
        ("Marina Costa (autônoma)", "52998224725", "marina.costa@example.com", "Marina Costa"),
    ]:
        cliente = await Cliente(
            empresa_id=ctx.empresa_id,
            nome=nome,
            documento=documento,
            email=email,
            telefone="(11) 3000-0000",
            responsavel=responsavel,
            endereco="São Paulo - SP",
        ).insert()
        ctx.clientes[nome] = cliente.id  # type: ignore[assignment]


def _as_admin(ctx: DemoContext) -> tuple[Principal, State]:
    """The demo admin as the domain services see a caller, so bookings go through the same rules."""
    principal = Principal(user_id=str(ctx.admin_id), empresa_id=str(ctx.empresa_id), role="admin")
    return principal, State({"db": Empresa.get_pymongo_collection().database})


def _month(offset: int) -> datetime:
    """The first day (00:00 in São Paulo) of the month `offset` months from now."""
    today = utcnow().astimezone(TZ)
    year, month = divmod(today.month - 1 + offset, 12)
    return datetime(today.year + year, month + 1, 1, tzinfo=TZ)


async def seed_alugueis(ctx: DemoContext) -> None:
    service = AluguelService(*_as_admin(ctx))
    ctx.extra["alugueis"] = [
        str(
            (
                await service.create(
                    AluguelCreate(
                        placa_id=str(ctx.placas[placa]),
                        cliente_id=str(ctx.clientes[cliente]),
                        inicio=_month(start),
                        fim=_month(start + months),
                        valor_centavos=valor,
                    )
                )
            ).id
        )
        for placa, cliente, start, months, valor in [
            ("SP-001", "Padaria Pão de Ouro", 1, 1, 350_000),
            ("SP-004", "Academia Corpo em Forma", 1, 2, 960_000),
            ("SP-010", "Auto Escola Direção Certa", 2, 1, 170_000),
        ]
    ]


async def seed_pis(ctx: DemoContext) -> None:
    service = PIService(*_as_admin(ctx))
    pis = []
    for cliente, placas, start, valor, produto, descricao in [
        (
            "Imobiliária Horizonte",
            ["SP-002", "SP-005", "SP-007"],
            1,
            690_000,
            "Lançamento Residencial Horizonte",
            "Três faces em vias de alto fluxo durante o mês de lançamento.",
        ),
        ("Marina Costa (autônoma)", ["SP-008", "SP-009"], 2, 290_000, "Ateliê Marina Costa", None),
    ]:
        pi = await service.create(
            PICreate(
                cliente_id=str(ctx.clientes[cliente]),
                placa_ids=[str(ctx.placas[p]) for p in placas],
                inicio=_month(start),
                fim=_month(start + 1),
                valor_total_centavos=valor,
                produto=produto,
                descricao=descricao,
            )
        )
        pis.append(str(pi.id))
    ctx.extra["pis"] = pis


async def seed_contratos(ctx: DemoContext) -> None:
    pis = ctx.extra.get("pis") or []
    if pis:
        contrato = await ContratoService(*_as_admin(ctx)).create(ContratoCreate(pi_id=pis[0]))
        ctx.extra["contratos"] = [str(contrato.id)]


#: run in order after `seed_empresa`; later areas append theirs
SEEDERS: list[Callable[[DemoContext], Awaitable[None]]] = [
    seed_regioes,
    seed_placas,
    seed_clientes,
    seed_alugueis,
    seed_pis,
    seed_contratos,
]


async def load_demo_data(password: str = DEMO_PASSWORD, *, if_empty: bool = False) -> dict[str, object]:
    """Load the demo once; returns the login to print and a note.

    Loaded when no demo admin exists yet (and, with `if_empty`, only when there is no empresa at
    all). A partial earlier load is not repaired: delete the demo empresa's data to start again.
    """
    existing = await User.find_one({"email": DEMO_EMAIL})
    if existing is not None:
        works = await verify_password(existing.password_hash, password)
        return {
            "email": DEMO_EMAIL,
            "password": password if works else None,
            "note": "demo data was already loaded"
            + ("" if works else "; the demo password has been changed since"),
            "loaded": False,
        }
    if if_empty and await Empresa.find_all().count() > 0:
        return {
            "email": None,
            "password": None,
            "note": "the database already has data; demo data not loaded (log in with your own users)",
            "loaded": False,
        }
    ctx = await seed_empresa(password)
    for seeder in SEEDERS:
        await seeder(ctx)
    return {
        "email": DEMO_EMAIL,
        "password": password,
        "note": f"demo data loaded: {len(ctx.regioes)} regiões, {len(ctx.placas)} placas, "
        f"{len(ctx.clientes)} clientes, {len(ctx.extra.get('alugueis') or [])} aluguéis, "
        f"{len(ctx.extra.get('pis') or [])} PIs, {len(ctx.extra.get('contratos') or [])} contratos",
        "loaded": True,
    }
