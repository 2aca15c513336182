"""Demo data for a fresh database (`core-api demo-data`): one empresa, its admin, regiões, placas,
clientes, aluguéis, PIs and a contrato in the São Paulo metropolitan region and Campinas.

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
from core_api.lib.documents import Representante, utcnow

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
    empresa = await Empresa(
        nome=DEMO_EMPRESA,
        cnpj="11222333000181",
        endereco="Av. Monteiro Lobato, 1200, sala 34 — Macedo",
        cidade="Guarulhos",
        uf="SP",
        telefone="(11) 2400-0000",
        email="comercial@outdoordemo.example",
        representante=Representante(nome="Helena Prado", cpf="52998224725", cargo="Diretora comercial"),
    ).insert()
    admin = await User(
        empresa_id=empresa.id,
        nome="Admin Demo",
        email=DEMO_EMAIL,
        password_hash=await hash_password(password),
        role="admin",
    ).insert()
    return DemoContext(empresa_id=empresa.id, admin_id=admin.id)  # type: ignore[arg-type]


#: São Paulo's Lei Cidade Limpa (Lei 14.223/2006) bans outdoors on the capital's streets: the demo's
#: outdoors stand in the metropolitan region and Campinas, where municipal law licenses them, and in
#: the capital it rents building-side panels (empenas) on the private lots the law still allows.
_REGIOES = [
    ("Guarulhos", "Via Dutra, Centro, Cumbica", "Guarulhos", "SP"),
    ("Grande ABC", "Santo André, São Bernardo do Campo, Via Anchieta", "Santo André", "SP"),
    ("Osasco e Barueri", "Rodovia Castello Branco, Alphaville", "Osasco", "SP"),
    ("Campinas", "Rodovia Anhanguera, Dom Pedro I", "Campinas", "SP"),
]

_PLACAS = [
    ("GRU-001", "Guarulhos", "Rod. Presidente Dutra, km 225, pista sul", "outdoor 9x3", 220000),
    ("GRU-002", "Guarulhos", "Av. Tiradentes, 1500 - Centro", "outdoor 9x3", 180000),
    ("GRU-003", "Guarulhos", "Rod. Hélio Smidt, km 2 (acesso ao aeroporto)", "painel rodoviário", 390000),
    ("ABC-001", "Grande ABC", "Av. Industrial, 600 - Santo André", "outdoor 9x3", 170000),
    ("ABC-002", "Grande ABC", "Via Anchieta, km 21, São Bernardo do Campo", "painel rodoviário", 350000),
    ("ABC-003", "Grande ABC", "Av. Kennedy, 900 - São Bernardo do Campo", "outdoor 9x3", 160000),
    ("OSA-001", "Osasco e Barueri", "Rod. Castello Branco, km 20, pista norte", "painel rodoviário", 380000),
    ("OSA-002", "Osasco e Barueri", "Av. dos Autonomistas, 2500 - Osasco", "outdoor 9x3", 190000),
    ("OSA-003", "Osasco e Barueri", "Av. Yojiro Takaoka, 4000 - Alphaville", "frontlight", 300000),
    ("CPS-001", "Campinas", "Rod. Anhanguera, km 98, sentido capital", "painel rodoviário", 330000),
    ("CPS-002", "Campinas", "Av. John Boyd Dunlop, 3000", "outdoor 9x3", 150000),
    ("CPS-003", "Campinas", "Rod. Dom Pedro I, km 131", "outdoor 9x3", 140000),
]
#: the capital's empenas (building sides); the número names the building, the size is the panel's
_EMPENAS = [
    ("SP-EMP-01", "Av. Rebouças, 3970 - Pinheiros (empena lateral, edifício comercial)", 1500, 2400, 480000),
    ("SP-EMP-02", "Rua Vergueiro, 2000 - Vila Mariana (empena cega)", 1200, 2000, 420000),
]


async def seed_regioes(ctx: DemoContext) -> None:
    for nome, descricao, _, _ in [*_REGIOES, ("São Paulo (capital)", "Empenas em lotes privados", "", "")]:
        regiao = await Regiao(empresa_id=ctx.empresa_id, nome=nome, descricao=descricao).insert()
        ctx.regioes[nome] = regiao.id  # type: ignore[assignment]


async def seed_placas(ctx: DemoContext) -> None:
    cidades = {nome: (cidade, uf) for nome, _, cidade, uf in _REGIOES}
    for numero, regiao, endereco, tipo, valor in _PLACAS:
        cidade, uf = cidades[regiao]
        placa = await Placa(
            empresa_id=ctx.empresa_id,
            numero=numero,
            regiao_id=ctx.regioes[regiao],
            endereco=endereco,
            cidade=cidade if "São Bernardo" not in endereco else "São Bernardo do Campo",
            uf=uf,
            tipo=tipo,
            largura_cm=900 if "outdoor" in tipo else 1200,
            altura_cm=300 if "outdoor" in tipo else 400,
            valor_mensal_centavos=valor,
        ).insert()
        ctx.placas[numero] = placa.id  # type: ignore[assignment]
    for numero, endereco, largura, altura, valor in _EMPENAS:
        placa = await Placa(
            empresa_id=ctx.empresa_id,
            numero=numero,
            regiao_id=ctx.regioes["São Paulo (capital)"],
            endereco=endereco,
            cidade="São Paulo",
            uf="SP",
            tipo="empena",
            largura_cm=largura,
            altura_cm=altura,
            valor_mensal_centavos=valor,
        ).insert()
        ctx.placas[numero] = placa.id  # type: ignore[assignment]


async def seed_clientes(ctx: DemoContext) -> None:
    for nome, documento, email, responsavel, endereco in [
        (
            "Padaria Pão de Ouro",
            "11444777000161",
            "contato@paodeouro.example",
            "João Pereira",
            "Guarulhos - SP",
        ),
        (
            "Academia Corpo em Forma",
            "45723174000110",
            "marketing@corpoemforma.example",
            "Carla Dias",
            "Santo André - SP",
        ),
        ("Imobiliária Horizonte", "60701190000104", "midia@horizonte.example", "Renato Lima", "Osasco - SP"),
        (
            "Auto Escola Direção Certa",
            "33000167000101",
            "contato@direcaocerta.example",
            "Paula Ramos",
            "Campinas - SP",
        ),
        (
            "Marina Costa (autônoma)",
            "52998224725",
            "marina.costa@example.com",
            "Marina Costa",
            "São Paulo - SP",
        ),
    ]:
        cliente = await Cliente(
            empresa_id=ctx.empresa_id,
            nome=nome,
            documento=documento,
            email=email,
            telefone="(11) 3000-0000",
            responsavel=responsavel,
            endereco=endereco,
            representante=Representante(nome=responsavel),
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
            ("GRU-001", "Padaria Pão de Ouro", 1, 1, 220_000),
            ("ABC-002", "Academia Corpo em Forma", 1, 2, 700_000),
            ("CPS-002", "Auto Escola Direção Certa", 2, 1, 150_000),
        ]
    ]


async def seed_pis(ctx: DemoContext) -> None:
    service = PIService(*_as_admin(ctx))
    pis = []
    for cliente, placas, start, valor, produto, descricao in [
        (
            "Imobiliária Horizonte",
            ["OSA-001", "OSA-002", "OSA-003"],
            1,
            870_000,
            "Lançamento Residencial Horizonte",
            "Três faces em vias de alto fluxo durante o mês de lançamento.",
        ),
        (
            "Marina Costa (autônoma)",
            ["SP-EMP-01", "SP-EMP-02"],
            2,
            900_000,
            "Ateliê Marina Costa",
            "Duas empenas, Pinheiros e Vila Mariana.",
        ),
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
