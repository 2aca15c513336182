"""Clientes (advertisers) of the caller's empresa."""

from __future__ import annotations

from core_api.domain.clientes.models import Cliente
from core_api.lib.crud import TenantCrudService
from core_api.lib.errors import conflict, item
from core_api.lib.repository import TenantRepository


class ClienteRepository(TenantRepository[Cliente]):
    label = "cliente"


class ClienteService(TenantCrudService[Cliente]):
    model = Cliente
    repository = ClienteRepository
    sort_fields = {"nome": "nome", "createdAt": "created_at", "updatedAt": "updated_at"}
    search_fields = ["nome", "documento", "email", "responsavel"]
    default_sort = "nome"
    entity = "cliente"

    async def delete(self, cliente_id: str) -> None:
        """Refused (409) while aluguéis or PIs name the cliente: they print its data on documents.

        A booking that checks the cliente just before this delete can still slip in (no
        transactions); it keeps its snapshot of the cliente's data, so documents still print.
        """
        # imported here: the booking areas import this module (their clientes are checked through it)
        from core_api.domain.alugueis.models import Aluguel
        from core_api.domain.pis.models import PI

        cliente = await self.repo.get(cliente_id)
        empresa = self.repo.empresa_id
        uses = {
            "alugueis": await TenantRepository(Aluguel, empresa).count({"cliente_id": cliente.id}),
            "pis": await TenantRepository(PI, empresa).count({"cliente_id": cliente.id}),
        }
        if any(uses.values()):
            raise conflict(
                f"cliente {cliente.nome!r} has {uses['alugueis']} aluguel(éis) and {uses['pis']} PI(s); "
                "cancel or keep them, the cliente stays",
                "in_use",
                *(
                    item(resource, count=n)
                    for resource, n in (("aluguel", uses["alugueis"]), ("pi", uses["pis"]))
                    if n
                ),
            )
        await self.repo.delete(cliente.id)  # type: ignore[arg-type]
