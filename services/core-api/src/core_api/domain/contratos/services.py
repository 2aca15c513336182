"""Contratos: made from a PI, numbered per empresa by an atomic counter document."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, ServiceUnavailableException
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.auth import Principal
from shared.metrics import entity_created

from core_api.domain.alugueis.booking import TZ
from core_api.domain.contratos.models import Contrato
from core_api.domain.contratos.schemas import ContratoCreate
from core_api.domain.empresas.models import Empresa
from core_api.domain.pis.models import PI
from core_api.domain.pis.services import PIService, build_pi_snapshot, status_publico
from core_api.lib.documents import utcnow
from core_api.lib.errors import ConflictException
from core_api.lib.listing import ListParams, db_sort
from core_api.lib.repository import TenantRepository, parse_object_id

CONTRATO_SORT = {"numero": "numero", "createdAt": "created_at", "inicio": "inicio"}
#: collection of sequence counters, one document per (sequence, empresa)
COUNTERS = "contadores"


async def proximo_numero(db: AsyncDatabase[Any], empresa_id: PydanticObjectId) -> int:
    """The next contrato number of an empresa: one `$inc` on a counter document.

    Atomic on MongoDB; on FerretDB v1 two concurrent calls may return the same number (the caller
    retries on the unique index). Two first-ever upserts may race; the loser retries.
    """
    for _ in range(3):
        try:
            doc = await db[COUNTERS].find_one_and_update(
                {"_id": f"contratos:{empresa_id}"},
                {"$inc": {"seq": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            assert doc is not None  # upsert with ReturnDocument.AFTER always returns the document
            return int(doc["seq"])
        except DuplicateKeyError:
            continue
    raise ConflictException("could not allocate a contrato number; retry")


class ContratoService:
    def __init__(self, principal: Principal, state: State) -> None:
        self.empresa_id = PydanticObjectId(principal.empresa_id)
        self.repo = TenantRepository(Contrato, self.empresa_id, "contrato")
        self.pis = PIService(principal, state)
        self.db = state.db

    async def get(self, contrato_id: str) -> Contrato:
        return await self.repo.get(contrato_id)

    async def list(
        self, params: ListParams, *, pi_id: str | None, cliente_id: str | None
    ) -> tuple[list[Contrato], int]:
        query: dict[str, Any] = {}
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
        pi = await self.pis.get(data.pi_id)
        if status_publico(pi) == "cancelada":
            raise ConflictException(f"PI {data.pi_id} is cancelada; a contrato needs a live PI")
        existing = await self.repo.find_one({"pi_id": pi.id})
        if existing is not None:
            raise ConflictException(
                f"PI {data.pi_id} already has contrato {existing.codigo}",
                extra={"contratoId": str(existing.id)},
            )
        # FerretDB v1's `$inc` is read-then-write: concurrent requests may draw the same number.
        # The unique (empresa_id, numero) index refuses the second insert; draw again.
        for _ in range(10):
            numero = await proximo_numero(self.db, self.empresa_id)
            now = utcnow()
            contrato = Contrato(
                empresa_id=self.empresa_id,
                pi_id=pi.id,
                cliente_id=pi.cliente_id,
                numero=numero,
                codigo=f"CT-{now.astimezone(TZ).year}-{numero:06d}",
                inicio=pi.inicio,
                fim=pi.fim,
                valor_total_centavos=pi.valor_total_centavos,
                produto=pi.produto,
                created_at=now,
                updated_at=now,
            )
            try:
                await contrato.insert()
                entity_created("contrato")
                return contrato
            except DuplicateKeyError:
                # Either the PI already has its contrato (a concurrent request won: the unique index
                # decided) or the number was taken. FerretDB does not always name the index in the
                # error, so ask the database which one it was.
                if await self.repo.find_one({"pi_id": pi.id}) is not None:
                    raise ConflictException(f"PI {data.pi_id} already has a contrato") from None
        raise ServiceUnavailableException("could not allocate a contrato number; retry")

    async def snapshot(self, contrato_id: str) -> dict[str, Any]:
        contrato = await self.get(contrato_id)
        empresa = await Empresa.get(self.empresa_id)
        if empresa is None:
            raise NotFoundException("empresa not found")
        return await build_contrato_snapshot(empresa, contrato)


async def build_contrato_snapshot(
    empresa: Empresa, contrato: Contrato, pi: PI | None = None
) -> dict[str, Any]:
    """Everything needed to render a contrato: its own fields plus the snapshot of its PI.

    Same conventions as `build_pi_snapshot` (snake_case, ISO strings, integer cents).
    """
    if contrato.empresa_id != empresa.id:
        raise NotFoundException(f"contrato {contrato.id} not found")
    if pi is None:
        pi = await TenantRepository(PI, empresa.id, "PI").find_one({"_id": contrato.pi_id})
        if pi is None:
            raise NotFoundException(f"PI {contrato.pi_id} of contrato {contrato.codigo} not found")
    base = await build_pi_snapshot(empresa, pi)
    return {
        **base,
        "tipo": "contrato",
        "contrato": {
            "id": str(contrato.id),
            "numero": contrato.numero,
            "codigo": contrato.codigo,
            "inicio": contrato.inicio.isoformat(),
            "fim": contrato.fim.isoformat(),
            "valor_total_centavos": contrato.valor_total_centavos,
            "produto": contrato.produto,
            "created_at": contrato.created_at.isoformat(),
        },
    }
