"""/api/v1/empresa: the caller's own empresa (read by anyone in it, changed by its admins)."""

from __future__ import annotations

from litestar import Controller, get, patch
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody
from shared.auth import admin_guard

from core_api.domain.empresas.schemas import EmpresaRead, EmpresaUpdate
from core_api.domain.empresas.services import EmpresaService
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException


class EmpresaController(Controller):
    path = "/api/v1/empresa"
    tags = ["empresa"]
    dependencies = {"empresas_service": provide_service(EmpresaService)}

    @get("/", summary="Your empresa", raises=[NotFoundException])
    async def get_empresa(self, empresas_service: NamedDependency[EmpresaService]) -> EmpresaRead:
        return EmpresaRead.model_validate(await empresas_service.get())

    @patch(
        "/",
        summary="Change your empresa's name or CNPJ (admin)",
        guards=[admin_guard],
        raises=[NotFoundException, ConflictException],
    )
    async def update_empresa(
        self, empresas_service: NamedDependency[EmpresaService], data: JSONBody[EmpresaUpdate]
    ) -> EmpresaRead:
        return EmpresaRead.model_validate(await empresas_service.update(data))
